// into(outputs...): the caller's buffers for a kernel's outputs, by position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <utility>
#include <type_traits>

#include <fmt/format.h>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

// kernel(into(Y, mean, rstd), x = X, ...) writes output i into the i-th buffer and allocates
// nothing. A buffer is a tensor or a view of mutable data (a view may be const itself: it still
// writes through).
template <class... Views>
struct into_t {
    std::tuple<Views...> views;
};

template <class Output>
auto as_output_view(Output&& output) {
    using O = std::remove_cvref_t<Output>;
    if constexpr (owning_tensor<O>) {
        static_assert(!std::is_const_v<std::remove_reference_t<Output>>, "etna: into(...) cannot write into a const tensor");
        return output.view();
    } else if constexpr (view_like<O> && !std::is_const_v<typename O::value_type> && std::is_convertible_v<O, view<typename O::value_type>>) {
        return view<typename O::value_type>(output);
    } else {
        static_assert(always_false<O>, "etna: into(...) takes tensors or views of mutable float or double data");
    }
}

template <class... Outputs>
auto into(Outputs&&... outputs) {
    return into_t<decltype(as_output_view(std::forward<Outputs>(outputs)))...>{{as_output_view(std::forward<Outputs>(outputs))...}};
}

namespace cpu {

// New tensors for the Count outputs of a kernel K (sized by K::output_rows and output_cols),
// filled by fill(into(tensors...)): one tensor for an expression, a std::tuple for a graph.
template <class K, element T, std::size_t Count, bool AsTuple, class Fill>
auto new_outputs(const sizes& extents, Fill&& fill) {
    auto results = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::tuple{tensor<T>(K::template output_rows<I>(extents), K::template output_cols<I>(extents))...};
    }(std::make_index_sequence<Count>{});
    std::apply([&](auto&... outputs) { fill(into(outputs...)); }, results);
    if constexpr (AsTuple) return results;
    else return std::move(std::get<0>(results));
}

// Whether two views share memory (rows of a window included).
template <class A, class B>
bool overlap(const view<A>& a, const view<B>& b) {
    if (a.size() == 0 || b.size() == 0) return false;
    const auto begin = [](const auto& v) { return reinterpret_cast<std::uintptr_t>(v.data()); };
    const auto end = [](const auto& v) { return reinterpret_cast<std::uintptr_t>(v.data() + (v.rows() - 1) * v.row_stride() + v.cols()); };
    return begin(a) < end(b) && begin(b) < end(a);
}

// Whether two views are the same window of the same memory.
template <class A, class B>
bool same_window(const view<A>& a, const view<B>& b) {
    return static_cast<const void*>(a.data()) == static_cast<const void*>(b.data()) && a.rows() == b.rows() &&
           a.cols() == b.cols() && (a.rows() <= 1 || a.row_stride() == b.row_stride());
}

// Output `index` of kind K needs a rows x cols buffer: a shape_error naming it otherwise.
template <a_kind K, class V>
void check_output_shape(std::size_t index, const view<V>& out, std::size_t rows, std::size_t cols) {
    const auto mismatch = [&](std::string_view what, std::size_t expected, std::size_t actual) {
        return shape_error(fmt::format("output {}", index), expected, actual,
                           fmt::format("etna: shape mismatch at output {} ({}): {} {}, expected {}", index, kind_name<K>(),
                                       actual, what, expected));
    };
    if (out.rows() != rows) throw mismatch("rows", rows, out.rows());
    if (out.cols() != cols) throw mismatch("columns", cols, out.cols());
}

}  // namespace cpu

}  // namespace etna
