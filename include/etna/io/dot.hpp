// to_dot(graph): a graph, forward or derived, in Graphviz's DOT language.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <fmt/format.h>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/reduction.hpp>

namespace etna {

namespace dot_detail {

// DOT strings are quoted: a quote or a backslash in a leaf's name is escaped, a line break
// becomes DOT's \n.
inline std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

// One label and shape per node category (expr/node.hpp).
template <class E>
std::string label(category_tag<node_category::leaf>) { return fmt::format("{}\n{}", E::name.view(), kind_name<kind_of<E>>()); }
template <class E>
std::string label(category_tag<node_category::literal>) { return fmt::format("{}", E::value); }
template <class E>
std::string label(category_tag<node_category::elementwise>) { return std::string(E::op::name); }
template <class E, node_category C>
std::string label(category_tag<C>) { return std::string(E::symbol()); }  // extents, reductions, contractions

template <class E>
constexpr std::string_view shape() {
    switch (E::category) {
        case node_category::leaf: return "box";
        case node_category::literal:
        case node_category::extent: return "plaintext";
        case node_category::reduction: return "invtriangle";
        case node_category::contraction: return "box3d";
        case node_category::elementwise: return "ellipse";
    }
    return "ellipse";
}

// Operand order matters for these: their edges are numbered.
template <class E>
constexpr bool ordered_operands() {
    if constexpr (is_contraction<E>) return true;
    else if constexpr (is_elementwise<E>) return E::op::arity > 1 && !std::is_same_v<typename E::op, prim::add> &&
                                            !std::is_same_v<typename E::op, prim::mul> &&
                                            !std::is_same_v<typename E::op, prim::max>;
    else return false;
}

}  // namespace dot_detail

// One DOT node per unique node of the graph (leaves as boxes, sums as triangles, constants as
// plain text), an edge from each operand to its user, and a double circle per output. Shared
// sub-expressions appear once, with several out-edges: the DAG etna plans, not a tree.
//   dot -Tsvg graph.dot > graph.svg
template <class G>
std::string to_dot(G) {
    using graph_type = as_graph_t<G>;
    using nodes = topological_nodes_t<graph_type>;
    std::string out = "digraph etna {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
    std::size_t index = 0;
    boost::hana::for_each(nodes{}, [&](auto node) {
        using E = typename decltype(node)::type;
        out += fmt::format("  n{} [label={}, shape={}];\n", index, dot_detail::quoted(dot_detail::label<E>(category_tag_of<E>{})),
                           dot_detail::shape<E>());
        std::size_t slot = 0;
        boost::hana::for_each(E::operands, [&](auto operand) {
            constexpr std::size_t from = index_in<typename decltype(operand)::type>(nodes{});
            if (dot_detail::ordered_operands<E>()) out += fmt::format("  n{} -> n{} [label=\"{}\"];\n", from, index, slot);
            else out += fmt::format("  n{} -> n{};\n", from, index);
            ++slot;
        });
        ++index;
    });
    std::size_t output = 0;
    boost::hana::for_each(graph_type::roots, [&](auto root) {
        constexpr std::size_t from = index_in<typename decltype(root)::type>(nodes{});
        out += fmt::format("  out{0} [label=\"out{0}\", shape=doublecircle];\n  n{1} -> out{0};\n", output, from);
        ++output;
    });
    return out + "}\n";
}

}  // namespace etna
