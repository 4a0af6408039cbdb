// The expression concept: what every node of an etna graph has in common.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>

#include <boost/hana/at.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <etna/expr/kind.hpp>

namespace etna {

// What a node is, declared once by its type; every later stage (autodiff, planner, kernels,
// interpreter, printers) dispatches on this declaration, one rule per category, and reads the
// rest of what it needs off the node (its primitive, its axis, its symbol).
enum class node_category : unsigned char {
    leaf,         // a named input (expr/leaf.hpp): declares role and name
    literal,      // a compile-time constant (expr/literal.hpp): declares value
    extent,       // T or D, known when the graph runs (expr/extent.hpp): declares over, symbol()
    elementwise,  // a primitive per element (expr/elementwise.hpp): declares op
    reduction,    // over one axis, sum or max (expr/reduction.hpp): declares over, op, symbol()
    contraction,  // of two operands over an axis (expr/contraction.hpp): declares over, symbol()
};

// Every node derives from node_base, is an empty literal type (its structure is its type, so a
// graph is a constexpr value and two equal sub-expressions are the same type), and declares
//   static constexpr node_category category = ...;  what it is (above)
//   using kind = ...;                      its axes (expr/kind.hpp)
//   static constexpr auto operands = ...;  a hana::tuple_t of its operand types, in order
// and, unless it is a leaf or a constant,
//   template <class... New> using with_operands = ...;  the same node over other operands (to
//                                          rewrite a graph: saved values, tiles of a contraction)
struct node_base {};

template <class E>
concept expression = std::derived_from<E, node_base> && std::is_empty_v<E> && a_kind<typename E::kind> &&
                     std::same_as<std::remove_cv_t<decltype(E::category)>, node_category>;

template <expression E>
using kind_of = typename E::kind;

// The type of E's operand I.
template <expression E, std::size_t I>
using operand_t = typename decltype(+E::operands[boost::hana::size_c<I>])::type;

// Whether E is a node of category C: false for anything that is not a node.
template <class E, node_category C>
inline constexpr bool is_node_category = false;
template <class E, node_category C>
    requires expression<std::remove_cv_t<E>>
inline constexpr bool is_node_category<E, C> = std::remove_cv_t<E>::category == C;

// A node's category as a type, for overloads that dispatch on it (one per category, as Eigen's
// evaluators specialize per expression kind): evaluate(category_tag_of<E>{}, ...).
template <node_category C>
using category_tag = std::integral_constant<node_category, C>;
template <class E>
using category_tag_of = category_tag<std::remove_cv_t<E>::category>;

// E over the operands f gives for its own, f(operand) for each: a graph rewritten node by node
// (saved values in a backward, tiles in a nest). A leaf, a constant or an extent is itself.
template <expression E, class F>
constexpr auto map_operands(E e, F f) {
    return [&]<class... Operands>(boost::hana::tuple<Operands...>) {
        if constexpr (sizeof...(Operands) == 0) return e;
        else return typename E::template with_operands<decltype(f(typename Operands::type{}))...>{};
    }(std::remove_cv_t<decltype(E::operands)>{});
}

template <class T>
inline constexpr bool always_false = false;

// The kind's name of an expression: kind_name(mean_f(x)) is "PerToken".
template <expression E>
[[nodiscard]] std::string kind_name(E) {
    return kind_name<kind_of<E>>();
}

}  // namespace etna
