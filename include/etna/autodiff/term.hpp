// Terms: what adjoint rules compute with. Their arithmetic builds simplified nodes.
#pragma once

#include <type_traits>

#include <etna/autodiff/simplify.hpp>
#include <etna/expr/node.hpp>

namespace etna::autodiff {

// An expression as an adjoint rule (expr/primitives.hpp) sees it: `d * b` in a rule builds
// simplify::mul(d, b), not the user's operator. A rule may also mix terms with constants
// (`d * constant<0.5>`).
template <expression E>
struct term {
    using type = E;
};

template <class T>
inline constexpr bool is_term = false;
template <expression E>
inline constexpr bool is_term<term<E>> = true;

// The expression behind a term or a constant.
template <class T>
constexpr auto expression_of(T) {
    if constexpr (is_term<T>) return typename T::type{};
    else return T{};
}

template <class A, class B>
concept term_operands = (is_term<A> || is_term<B>) && (is_term<A> || expression<A>) && (is_term<B> || expression<B>);

template <class E>
constexpr auto as_term(E) {
    return term<std::remove_cv_t<E>>{};
}

template <class A, class B> requires term_operands<A, B>
constexpr auto operator+(A a, B b) { return as_term(simplify::add(expression_of(a), expression_of(b))); }
template <class A, class B> requires term_operands<A, B>
constexpr auto operator-(A a, B b) { return as_term(simplify::sub(expression_of(a), expression_of(b))); }
template <class A, class B> requires term_operands<A, B>
constexpr auto operator*(A a, B b) { return as_term(simplify::mul(expression_of(a), expression_of(b))); }
template <class A, class B> requires term_operands<A, B>
constexpr auto operator/(A a, B b) { return as_term(simplify::div(expression_of(a), expression_of(b))); }
template <expression E>
constexpr auto operator-(term<E>) { return as_term(simplify::neg(E{})); }

// The functions a rule may call, as `f.exp(a)`: inside namespace prim the names exp, select,
// greater are the primitives themselves.
struct functions {
    template <class A>
    constexpr auto exp(A a) const {
        return as_term(simplify::exp(expression_of(a)));
    }
    template <class C, class A, class B>
    constexpr auto select(C c, A a, B b) const {
        return as_term(simplify::select(expression_of(c), expression_of(a), expression_of(b)));
    }
    template <class A, class B>
    constexpr auto greater(A a, B b) const {
        return as_term(simplify::greater(expression_of(a), expression_of(b)));
    }
    template <class A, class Like>
    constexpr auto fit(A a, Like like) const {
        return as_term(simplify::fit(expression_of(a), expression_of(like)));
    }
    template <bool Transposed, class A, class W>
    constexpr auto matmul(A a, W w) const {
        return as_term(simplify::matmul<Transposed>(expression_of(a), expression_of(w)));
    }
    template <class A, class B>
    constexpr auto outer_sum(A a, B b) const {
        return as_term(simplify::outer_sum(expression_of(a), expression_of(b)));
    }
    // The sum of a over axis Over, split where it is linear (autodiff/simplify.hpp).
    template <axis Over, class A>
    constexpr auto sum(A a) const {
        using E = decltype(expression_of(a));
        return as_term(simplify::sum<Over, kind_of<E>::feature_axis>(expression_of(a)));
    }
};

}  // namespace etna::autodiff
