// graph_table: a graph as constexpr arrays (category, kind, operands of every node), for planning.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

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

// The node kinds the planner tells apart. A reduction over features of a PerFeature value
// (giving a Scalar) and one over tokens of a PerToken value are reductions all the same.
enum class category : unsigned char { leaf, literal, extent, elementwise, sum_features, sum_tokens, matmul, outer_sum };

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
};

namespace detail {

template <class E>
consteval category category_of() {
    if constexpr (is_leaf<E>) return category::leaf;
    else if constexpr (is_literal<E>) return category::literal;
    else if constexpr (is_extent<E>) return category::extent;
    else if constexpr (is_elementwise<E>) return category::elementwise;
    else if constexpr (is_matmul<E>) return category::matmul;
    else if constexpr (is_outer_sum<E>) return category::outer_sum;
    else return E::over == axis::features ? category::sum_features : category::sum_tokens;
}

template <class Nodes, class E, class... Operands>
consteval node_info describe(boost::hana::tuple<Operands...>) {
    node_info info{category_of<E>(), kind_of<E>::has_tokens, kind_of<E>::has_features, sizeof...(Operands), {-1, -1, -1},
                   is_statistic_leaf<E>};
    info.feature_axis = kind_of<E>::feature_axis.view();
    info.weight = is_weight<kind_of<E>>;
    if constexpr (is_elementwise<E>) info.cost = E::op::cost;
    int k = 0;
    ((info.operands[k++] = static_cast<int>(index_in<typename Operands::type>(Nodes{}))), ...);
    return info;
}

template <class Nodes, class... Types>
consteval auto describe_all(boost::hana::tuple<Types...>) {
    return std::array<node_info, sizeof...(Types)>{
        describe<Nodes, typename Types::type>(typename operands_of<typename Types::type>::type{})...};
}

template <class Nodes, class... Roots>
consteval auto root_positions(boost::hana::tuple<Roots...>) {
    return std::array<int, sizeof...(Roots)>{static_cast<int>(index_in<typename Roots::type>(Nodes{}))...};
}

}  // namespace detail

// The unique nodes of G in topological order (as expr/graph.hpp lists them), described by value.
template <class G>
struct graph_table {
    using nodes = topological_nodes_t<G>;
    static constexpr std::size_t size = node_count<G>;
    static constexpr auto info = detail::describe_all<nodes>(nodes{});
    static constexpr auto outputs = detail::root_positions<nodes>(std::remove_cv_t<decltype(as_graph_t<G>::roots)>{});
    static constexpr std::size_t output_count = outputs.size();
};

}  // namespace etna::fuse
