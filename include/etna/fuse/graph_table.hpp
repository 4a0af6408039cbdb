// graph_table: a graph as constexpr arrays (category, kind, operands of every node), for planning.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/reduction.hpp>

namespace etna::fuse {

// What the planner tells apart: a node's category (expr/node.hpp) with the axis of a reduction
// or a contraction. A reduction over features of a PerFeature value (giving a Scalar) and one
// over tokens of a PerToken value are reductions all the same.
enum class category : unsigned char { leaf, literal, extent, elementwise, reduce_features, reduce_tokens, matmul, outer_sum };

struct node_info {
    category what;
    bool tokens;    // varies along the token axis
    bool features;  // varies along a feature axis
    int operand_count;
    std::array<int, 3> operands;  // positions in the table, each before this node
    bool statistic_leaf = false;  // a leaf bound to double data (leaf_role::statistic)
    int cost = 0;                 // an elementwise node's primitive cost per element (expr/primitives.hpp)
    std::string_view feature_axis{};  // the name of its feature axis ("" without one)
    bool weight = false;              // of a weight's kind (two feature axes)
    std::string_view combine{};       // a reduction's combining operation: sum, max
    double identity = 0;              // a reduction's value over no element: 0, -inf
    std::string_view symbol{};        // a reduction's or contraction's name: sum_f, max_t, matmul, ...
    bool transposed = false;          // a matmul by its weight's transpose (matmul_t)
};

namespace detail {

template <class E>
consteval category category_of() {
    constexpr node_category c = E::category;
    if constexpr (c == node_category::reduction) return E::over == axis::features ? category::reduce_features : category::reduce_tokens;
    else if constexpr (c == node_category::contraction) return E::over == axis::features ? category::matmul : category::outer_sum;
    else if constexpr (c == node_category::leaf) return category::leaf;
    else if constexpr (c == node_category::literal) return category::literal;
    else if constexpr (c == node_category::extent) return category::extent;
    else return category::elementwise;
}

template <class E, class... Operands>
consteval node_info describe(boost::hana::tuple<Operands...>, std::array<int, 3> operands) {
    node_info info{category_of<E>(), kind_of<E>::has_tokens, kind_of<E>::has_features, sizeof...(Operands), operands,
                   is_statistic_leaf<E>};
    info.feature_axis = kind_of<E>::feature_axis.view();
    info.weight = is_weight<kind_of<E>>;
    if constexpr (is_elementwise<E>) info.cost = E::op::cost;
    if constexpr (is_reduction<E>) {
        info.combine = E::op::name.view();
        info.identity = E::op::template identity<double>();
    }
    if constexpr (is_reduction<E> || is_contraction<E>) info.symbol = E::symbol();
    if constexpr (is_matmul<E>) info.transposed = E::transposed;
    return info;
}

template <class G, class... Types, std::size_t... I>
consteval auto describe_all(boost::hana::tuple<Types...>, std::index_sequence<I...>) {
    return std::array<node_info, sizeof...(Types)>{
        describe<typename Types::type>(typename operands_of<typename Types::type>::type{}, operand_positions<G>[I])...};
}

}  // namespace detail

// The unique nodes of G in topological order (as expr/graph.hpp lists them), described by value.
template <class G>
struct graph_table {
    using nodes = topological_nodes_t<G>;
    static constexpr std::size_t size = node_count<G>;
    static constexpr auto info = detail::describe_all<G>(nodes{}, std::make_index_sequence<size>{});
    static constexpr auto outputs = output_positions<G>;
    static constexpr std::size_t output_count = outputs.size();
};

}  // namespace etna::fuse
