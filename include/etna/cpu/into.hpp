// into(outputs...): the caller's buffers for a kernel's outputs, by position.
#pragma once

#include <tuple>
#include <type_traits>

#include <etna/expr/node.hpp>
#include <etna/runtime/binding.hpp>
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

}  // namespace etna
