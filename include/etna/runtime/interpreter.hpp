// The reference interpreter: evaluates any graph node by node, every node materialized once.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/for_each.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/reduction.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

// interpreter<double, G> is the test oracle; interpreter<float, G> is the "eager" baseline that
// fused kernels are measured against (one loop per node, each intermediate written to memory).
// Nodes are evaluated in topological order, each exactly once: a shared sub-expression is one
// node (identity = type), so neither it nor a reduction is ever re-evaluated per element.
// Buffers are kept between calls, so a repeated call allocates nothing.
template <element T, class G>
class interpreter {
    using nodes = topological_nodes_t<G>;
    static constexpr std::size_t count = node_count<G>;

public:
    constexpr interpreter() = default;
    constexpr explicit interpreter(G) {}

    // Evaluates the graph; the outputs are then readable with output<I>() until the next run.
    template <class... Bindings>
    void run(const Bindings&... bindings) {
        static_assert(check_bindings<G, Bindings...>());
        const sizes extents = sizes_of_bindings<G>(bindings...);
        evaluations_ = 0;
        boost::hana::for_each(nodes{}, [&](auto node) {
            using E = typename decltype(node)::type;
            if constexpr (is_leaf<E>) bind_leaf<E>(binding_for<E>(bindings...));
            else evaluate<E>(category_tag_of<E>{}, extents);
            ++evaluations_;
        });
    }

    // How many nodes the last run materialized: node_count<G>, each unique node once.
    [[nodiscard]] std::size_t evaluations() const noexcept { return evaluations_; }

    // Evaluates the graph and returns copies of its outputs: one tensor for an expression, a
    // std::tuple of tensors for outputs(a, b, ...).
    template <class... Bindings>
    auto operator()(const Bindings&... bindings) {
        run(bindings...);
        return [this]<std::size_t... I>(std::index_sequence<I...>) {
            if constexpr (is_graph<G>) return std::tuple{tensor<T>::copy_of(output<I>())...};
            else return tensor<T>::copy_of(output<0>());
        }(std::make_index_sequence<decltype(boost::hana::length(as_graph(G{}).roots))::value>{});
    }

    template <std::size_t I>
    [[nodiscard]] view<const T> output() const {
        using E = typename std::remove_cvref_t<decltype(as_graph(G{}).roots[boost::hana::size_c<I>])>::type;
        return value_of<E>();
    }

private:
    template <class E>
    static constexpr std::size_t slot = index_in<E>(nodes{});

    template <class E>
    [[nodiscard]] view<const T> value_of() const { return values_[slot<E>]; }

    // A node's buffer, reused when the shape is unchanged since the last run.
    template <class E>
    tensor<T>& buffer(std::size_t rows, std::size_t cols) {
        auto& owned = owned_[slot<E>];
        if (owned.rows() != rows || owned.cols() != cols) owned = tensor<T>(rows, cols);
        values_[slot<E>] = owned.view();
        return owned;
    }

    // A leaf reads its binding in place when the element types agree, and a converted copy
    // otherwise. A Scalar leaf is always copied: it may be bound to a number that lives in the
    // binding, which is gone when run() returns, and an output may be that leaf.
    template <class Leaf, class Binding>
    void bind_leaf(const Binding& bound) {
        const auto values = bound.values();
        if constexpr (std::is_same_v<typename Binding::value_type, T> && !std::is_same_v<kind_of<Leaf>, Scalar>) {
            values_[slot<Leaf>] = values;
        } else {
            auto& copy = buffer<Leaf>(values.rows(), values.cols());
            for (std::size_t r = 0; r < values.rows(); ++r)
                for (std::size_t c = 0; c < values.cols(); ++c) copy(r, c) = static_cast<T>(values(r, c));
        }
    }

    // One evaluator per node category (expr/node.hpp).
    template <class E>
    void evaluate(category_tag<node_category::literal>, const sizes&) {
        buffer<E>(1, 1)(0, 0) = static_cast<T>(E::value);
    }

    template <class E>
    void evaluate(category_tag<node_category::extent>, const sizes& extents) {
        const std::size_t n = E::over == axis::tokens ? extents.tokens() : extents.features(E::feature_axis.view());
        buffer<E>(1, 1)(0, 0) = static_cast<T>(n);
    }

    // Reads an operand with broadcasting: along an axis the operand lacks, its step is 0.
    struct broadcast_reader {
        const T* data;
        std::size_t row_step;
        std::size_t col_step;
        T operator()(std::size_t r, std::size_t c) const { return data[r * row_step + c * col_step]; }
    };

    template <class E>
    [[nodiscard]] broadcast_reader reader() const {
        const auto v = value_of<E>();
        constexpr bool has_rows = kind_of<E>::has_tokens || is_weight<kind_of<E>>;
        return {v.data(), has_rows ? v.row_stride() : 0, kind_of<E>::has_features ? std::size_t{1} : 0};
    }

    template <class E>
    void evaluate(category_tag<node_category::elementwise>, const sizes& extents) {
        [&]<class... Args>(boost::hana::tuple<Args...>) {
            using K = kind_of<E>;
            auto& out = buffer<E>(extents.rows<K>(), extents.cols<K>());
            const std::tuple readers{reader<typename Args::type>()...};
            std::apply(
                [&](const auto&... operand) {
                    for (std::size_t r = 0; r < out.rows(); ++r)
                        for (std::size_t c = 0; c < out.cols(); ++c) out(r, c) = E::op::template apply<T>(operand(r, c)...);
                },
                readers);
        }(typename operands_of<E>::type{});
    }

    // Combines in index order, so the result is the same on every run.
    template <class E>
    void evaluate(category_tag<node_category::reduction>, const sizes& extents) {
        using K = kind_of<E>;
        using Op = typename E::op;
        const auto in = value_of<operand_t<E, 0>>();
        auto& out = buffer<E>(extents.rows<K>(), extents.cols<K>());
        if constexpr (E::over == axis::features) {
            for (std::size_t r = 0; r < in.rows(); ++r) {
                T sum = Op::template identity<T>();
                for (std::size_t c = 0; c < in.cols(); ++c) sum = Op::combine(sum, in(r, c));
                out(r, 0) = sum;
            }
        } else {
            for (std::size_t c = 0; c < in.cols(); ++c) out(0, c) = Op::template identity<T>();
            for (std::size_t r = 0; r < in.rows(); ++r)
                for (std::size_t c = 0; c < in.cols(); ++c) out(0, c) = Op::combine(out(0, c), in(r, c));
        }
    }

    // Contractions, by their definitions (expr/contraction.hpp).
    template <class E>
    void evaluate(category_tag<node_category::contraction>, const sizes& extents) {
        using K = kind_of<E>;
        E::apply(buffer<E>(extents.rows<K>(), extents.cols<K>()), value_of<operand_t<E, 0>>(), value_of<operand_t<E, 1>>());
    }

    std::array<tensor<T>, count> owned_;
    std::array<view<const T>, count> values_;
    std::size_t evaluations_ = 0;
};

// interpret<double>(y, x = X, g = G): evaluates once and returns the output(s).
template <element T, class G, class... Bindings>
auto interpret(G graph, const Bindings&... bindings) {
    return interpreter<T, G>(graph)(bindings...);
}

}  // namespace etna
