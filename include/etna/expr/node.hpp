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
struct node_base {};

template <class E>
concept expression = std::derived_from<E, node_base> && std::is_empty_v<E> && a_kind<typename E::kind>;

template <expression E>
using kind_of = typename E::kind;

template <class T>
inline constexpr bool always_false = false;

// The kind's name of an expression: kind_name(mean_f(x)) is "PerToken".
template <expression E>
[[nodiscard]] std::string kind_name(E) {
    return kind_name<kind_of<E>>();
}

}  // namespace etna
