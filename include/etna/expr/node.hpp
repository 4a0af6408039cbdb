// The expression concept: what every node of an etna graph has in common.
#pragma once

#include <concepts>
#include <string>
#include <type_traits>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <etna/expr/kind.hpp>

namespace etna {

// Every node derives from node_base, is an empty literal type (its structure is its type, so a
// graph is a constexpr value and two equal sub-expressions are the same type), and declares
//   using kind = ...;                      its axes (expr/kind.hpp)
//   static constexpr auto operands = ...;  a hana::tuple_t of its operand types, in order
// and, unless it is a leaf or a constant,
//   template <class... New> using with_operands = ...;  the same node over other operands (to
//                                          rewrite a graph: saved values, tiles of a contraction)
struct node_base {};

template <class E>
concept expression = std::derived_from<E, node_base> && std::is_empty_v<E> && a_kind<typename E::kind>;

template <expression E>
using kind_of = typename E::kind;

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
