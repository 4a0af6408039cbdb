// Graphs: one or more output expressions, and their unique nodes in topological order.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include <boost/hana/filter.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <etna/expr/leaf.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// Several outputs computed from one graph; outputs(r, layer_norm(r, g, b)) is the pre-norm
// residual stream and its normalized value. A single expression is a graph with one output.
template <expression... Outs>
struct graph {
    static_assert(sizeof...(Outs) > 0, "etna: a graph needs at least one output");
    static constexpr auto roots = boost::hana::tuple_t<Outs...>;
};

template <expression... Outs>
constexpr graph<Outs...> outputs(Outs...) { return {}; }

namespace detail {
template <class G>
inline constexpr bool is_graph = false;
template <expression... Outs>
inline constexpr bool is_graph<graph<Outs...>> = true;
}  // namespace detail

// decltype of a constexpr graph or expression is const: every trait here ignores that.
template <class G>
inline constexpr bool is_graph = detail::is_graph<std::remove_cv_t<G>>;

template <class E>
struct as_graph_of {
    using type = graph<E>;
};
template <expression... Outs>
struct as_graph_of<graph<Outs...>> {
    using type = graph<Outs...>;
};
template <class E>
using as_graph_t = typename as_graph_of<std::remove_cv_t<E>>::type;

// A graph value from either an expression or a graph.
template <class E>
constexpr as_graph_t<E> as_graph(E) { return {}; }

// The operands a walk follows: by default a node's own. A policy may present a node
// differently (the formula printer treats sum_f(x) / D as the one node mean_f(x)).
template <class E>
struct operands_of {
    using type = std::remove_cv_t<decltype(E::operands)>;
};

namespace detail {

// Depth-first, operands before users, each node once. The walk is a class template, so the
// compiler memoizes each (visited set, node) step. Measured on a 48-deep chain of shared
// sub-expressions (97 nodes): the same walk as a hana::fold_left with hana::contains took
// 360 s and 24 GB to compile; this one adds under 0.1 s.
template <class... Nodes>
struct node_list {};

template <class List, class E>
inline constexpr bool listed = false;
template <class... Nodes, class E>
inline constexpr bool listed<node_list<Nodes...>, E> = (std::is_same_v<Nodes, E> || ...);

template <template <class> class OperandsOf, class Visited, class E, bool Seen = listed<Visited, E>>
struct visit;

template <template <class> class OperandsOf, class Visited, class Operands>
struct visit_each;

template <template <class> class OperandsOf, class Visited>
struct visit_each<OperandsOf, Visited, boost::hana::tuple<>> {
    using type = Visited;
};
template <template <class> class OperandsOf, class Visited, class First, class... Rest>
struct visit_each<OperandsOf, Visited, boost::hana::tuple<First, Rest...>> {
    using type = typename visit_each<OperandsOf, typename visit<OperandsOf, Visited, typename First::type>::type,
                                     boost::hana::tuple<Rest...>>::type;
};

template <template <class> class OperandsOf, class Visited, class E>
struct visit<OperandsOf, Visited, E, true> {
    using type = Visited;
};

template <class E, class List>
struct append_node;
template <class E, class... Nodes>
struct append_node<E, node_list<Nodes...>> {
    using type = node_list<Nodes..., E>;
};

template <template <class> class OperandsOf, class Visited, class E>
struct visit<OperandsOf, Visited, E, false> {
    using type = typename append_node<E, typename visit_each<OperandsOf, Visited, typename OperandsOf<E>::type>::type>::type;
};

template <class... Nodes>
constexpr auto as_type_tuple(node_list<Nodes...>) {
    return boost::hana::tuple_t<Nodes...>;
}

}  // namespace detail

// The unique nodes of a graph (a hana::tuple of hana::type), every node after its operands.
// Equal sub-expressions are one node: identity is type identity.
template <class G, template <class> class OperandsOf = operands_of>
using topological_nodes_t = decltype(detail::as_type_tuple(
    typename detail::visit_each<OperandsOf, detail::node_list<>, std::remove_cv_t<decltype(as_graph_t<G>::roots)>>::type{}));

template <class G>
constexpr topological_nodes_t<G> topological_nodes(G) { return {}; }

template <class G>
inline constexpr std::size_t node_count = decltype(boost::hana::length(topological_nodes_t<G>{}))::value;

// Position of E (const or not: decltype of a constexpr graph is const) in a tuple of types;
// the tuple's size if absent.
template <class E, class... Types>
consteval std::size_t index_in(boost::hana::tuple<Types...>) {
    constexpr bool same[] = {std::is_same_v<std::remove_cv_t<E>, typename Types::type>..., false};
    std::size_t i = 0;
    while (i < sizeof...(Types) && !same[i]) ++i;
    return i;
}

template <class G>
constexpr auto leaves_of(G g) {
    return boost::hana::filter(topological_nodes(g),
                               [](auto node) { return boost::hana::bool_c<is_leaf<typename decltype(node)::type>>; });
}

namespace detail {

template <class Nodes, class... Operands>
consteval std::array<int, 3> positions_of(boost::hana::tuple<Operands...>) {
    std::array<int, 3> at{-1, -1, -1};
    std::size_t k = 0;
    ((at[k++] = static_cast<int>(index_in<typename Operands::type>(Nodes{}))), ...);
    return at;
}

template <class Nodes, template <class> class OperandsOf, class... Types>
consteval auto operand_positions(boost::hana::tuple<Types...>) {
    return std::array<std::array<int, 3>, sizeof...(Types)>{positions_of<Nodes>(typename OperandsOf<typename Types::type>::type{})...};
}

}  // namespace detail

// Where each node of topological_nodes_t<G> finds its operands (at most three): their positions
// in that list, each before the node, -1 past the node's operands.
template <class G, template <class> class OperandsOf = operands_of>
inline constexpr auto operand_positions =
    detail::operand_positions<topological_nodes_t<G, OperandsOf>, OperandsOf>(topological_nodes_t<G, OperandsOf>{});

namespace detail {

template <class Nodes, class... Roots>
consteval auto root_positions(boost::hana::tuple<Roots...>) {
    return std::array<int, sizeof...(Roots)>{static_cast<int>(index_in<typename Roots::type>(Nodes{}))...};
}

}  // namespace detail

// Where each output of G is in topological_nodes_t<G>, in output order.
template <class G>
inline constexpr auto output_positions =
    detail::root_positions<topological_nodes_t<G>>(std::remove_cv_t<decltype(as_graph_t<G>::roots)>{});

namespace detail {

template <class Nodes, class... Types>
consteval void count_uses(std::array<int, decltype(boost::hana::length(Nodes{}))::value>& uses, boost::hana::tuple<Types...>) {
    (++uses[index_in<typename Types::type>(Nodes{})], ...);
}

template <class Nodes, class Roots, template <class> class OperandsOf, class... Types>
consteval auto use_counts(boost::hana::tuple<Types...>) {
    std::array<int, sizeof...(Types)> uses{};
    (count_uses<Nodes>(uses, typename OperandsOf<typename Types::type>::type{}), ...);
    count_uses<Nodes>(uses, Roots{});
    return uses;
}

}  // namespace detail

// How many times each node of topological_nodes_t<G, OperandsOf> is used: once per operand slot
// that names it, plus once per output.
template <class G, template <class> class OperandsOf = operands_of>
inline constexpr auto use_counts =
    detail::use_counts<topological_nodes_t<G, OperandsOf>, std::remove_cv_t<decltype(as_graph_t<G>::roots)>, OperandsOf>(
        topological_nodes_t<G, OperandsOf>{});

}  // namespace etna
