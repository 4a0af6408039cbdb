// The operators and functions that build elementwise nodes: + - * / and exp, log, sqrt, ...
#pragma once

#include <type_traits>

#include <etna/expr/elementwise.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

template <expression A, expression B>
constexpr auto operator+(A a, B b) { return apply_elementwise<prim::add>(a, b); }
template <expression A, expression B>
constexpr auto operator-(A a, B b) { return apply_elementwise<prim::sub>(a, b); }
template <expression A, expression B>
constexpr auto operator*(A a, B b) { return apply_elementwise<prim::mul>(a, b); }
template <expression A, expression B>
constexpr auto operator/(A a, B b) { return apply_elementwise<prim::div>(a, b); }
template <expression A>
constexpr auto operator-(A a) { return apply_elementwise<prim::neg>(a); }

// max(a, b) propagates NaN; greater(a, b) is 1 where a > b and 0 elsewhere.
template <expression A, expression B>
constexpr auto max(A a, B b) { return apply_elementwise<prim::max>(a, b); }
template <expression A, expression B>
constexpr auto greater(A a, B b) { return apply_elementwise<prim::greater>(a, b); }

// select(c, a, b): a where c is not 0, else b.
template <expression C, expression A, expression B>
constexpr auto select(C c, A a, B b) { return apply_elementwise<prim::select>(c, a, b); }

template <expression A>
constexpr auto exp(A a) { return apply_elementwise<prim::exp>(a); }
template <expression A>
constexpr auto log(A a) { return apply_elementwise<prim::log>(a); }
template <expression A>
constexpr auto sqrt(A a) { return apply_elementwise<prim::sqrt>(a); }
template <expression A>
constexpr auto rsqrt(A a) { return apply_elementwise<prim::rsqrt>(a); }
template <expression A>
constexpr auto tanh(A a) { return apply_elementwise<prim::tanh>(a); }
template <expression A>
constexpr auto erf(A a) { return apply_elementwise<prim::erf>(a); }

// stop_gradient(a): a, with no gradient through it (expr/primitives.hpp says when that is exact).
template <expression A>
constexpr auto stop_gradient(A a) { return apply_elementwise<prim::stop_gradient>(a); }

// A plain number cannot be part of a graph: a graph is a type, and a run-time number is not.
// These overloads exist only to say so at the line that wrote `x * 2.0`.
template <class N>
concept number = std::is_arithmetic_v<N>;

template <class L, class R>
concept number_and_expression = (expression<L> && number<R>) || (number<L> && expression<R>);

template <class L, class R>
constexpr auto reject_number() {
    static_assert(always_false<L>,
                  "etna: a plain number cannot appear in an expression; write constant<2.0> for a compile-time "
                  "constant, or use a scalar<\"name\"> leaf bound at run time");
    return std::conditional_t<expression<L>, L, R>{};
}

template <class L, class R> requires number_and_expression<L, R>
constexpr auto operator+(L, R) { return reject_number<L, R>(); }
template <class L, class R> requires number_and_expression<L, R>
constexpr auto operator-(L, R) { return reject_number<L, R>(); }
template <class L, class R> requires number_and_expression<L, R>
constexpr auto operator*(L, R) { return reject_number<L, R>(); }
template <class L, class R> requires number_and_expression<L, R>
constexpr auto operator/(L, R) { return reject_number<L, R>(); }

}  // namespace etna
