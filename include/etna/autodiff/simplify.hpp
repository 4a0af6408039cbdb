// The simplifier: constructors of nodes that fold what autodiff would otherwise leave behind.
#pragma once

#include <type_traits>

#include <boost/hana/pair.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>
#include <etna/expr/reduction.hpp>

// Reverse mode multiplies every adjoint by a local derivative and sums the contributions, so a
// derived graph is full of `d * 1`, `0 + d`, `-(-d)` and products of constants. These
// constructors build the node a rule asks for, simplified:
//
//   0 + a -> a   a - 0 -> a   0 - a -> -a   a + -b -> a - b   a - -b -> a + b   a + a -> 2 * a
//   a * 0 -> 0   a * 1 -> a   a * -1 -> -a  0 / a -> 0        a / 1 -> a        -(-a) -> a
//   a - a -> 0   (a / b) * b -> a             select(c, 0, 0) -> 0
//   sum(e) - sum(e) -> 0, whether each sum is written as the user's or split as below
//   c1 op c2 -> the constant (folded at compile time)
//
// and sums that are linear where it pays: a sum over an axis splits over + and -, and factors
// that lack the axis move out of it:
//
//   sum_f(a + b) -> sum_f(a) + sum_f(b)      sum_f(p * a) -> p * sum_f(a)   (p PerToken or Scalar)
//   sum_f(a / p) -> sum_f(a) / p             sum_f(p) -> p * D
//
// and so does a masked sum, select(c, a, 0) being linear in a (a masked mean's adjoint is one):
//
//   sum_t(select(c, a, 0) * b) -> sum_t(select(c, a * b, 0))
//   sum_t(select(c, a + b, 0)) -> sum_t(select(c, a, 0)) + sum_t(select(c, b, 0))  (and -, neg, / p)
//   sum_t(select(c, p * a, 0)) -> p * sum_t(select(c, a, 0))   sum_t(select(m, p, 0)) -> p * sum_t(m)
//
// (p constant along the axis; the last for a mask leaf m only, which holds 0 and 1).
//
// This is what gives the derived LayerNorm backward the cost of the textbook formula: the sum of
// the adjoint of x - mean(x), r * dn + 2 ds * xc, becomes r * sum_f(dn) + 2 ds * sum_f(xc), two
// sums that no longer wait for r and ds, which are themselves sums; so the backward needs two
// phases of reductions over a row, not three (tests/fuse/gradient_plan_test.cpp). And sum_f(xc), the
// sum of x - sum_f(x) / D, becomes sum_f(x) - (sum_f(x) / D) * D = sum_f(x) - sum_f(x) = 0: the
// variance does not depend on the mean to first order, and the term vanishes instead of being
// computed as a cancellation. The same holds for a mean over the unmasked tokens, and there it
// saves a whole nest: a barrier and a pass over the data (tests/autodiff/vjp_test.cpp).
//
// a * 0 -> 0, 0 / a -> 0, a - a -> 0 and (a / b) * b -> a are not IEEE-exact where a or b is
// infinite, NaN or (for the last) zero: a gradient term that is zero by the rules is zero, as in
// every autodiff system. Moving b into select(c, a * b, 0) is not either where c is 0 and b is
// not finite, and that is the point: a masked token's b (NaN padding) is never read into the
// sum. Simplified nodes may change kind (a * 0 is Scalar where a * x was Act); autodiff fits
// each gradient to its leaf's kind at the end (broadcast).
namespace etna::simplify {

template <class E>
inline constexpr bool is_constant = is_literal<std::remove_cv_t<E>>;

template <class E, double V>
inline constexpr bool is_constant_equal_to = [] {
    if constexpr (is_constant<E>) return std::remove_cv_t<E>::value == V;
    else return false;
}();

template <class E>
inline constexpr bool is_zero = is_constant_equal_to<E, 0.0>;

template <class E>
inline constexpr bool is_negation = false;
template <expression A>
inline constexpr bool is_negation<elementwise<prim::neg, A>> = true;

template <class E, class Op>
inline constexpr bool is_node_of = false;
template <class Op, expression... Args>
inline constexpr bool is_node_of<elementwise<Op, Args...>, Op> = true;

// A node as autodiff builds it. Derived graphs may combine a PerToken with a PerFeature value
// (the gradient of a masked mean over tokens is select(m, d, 0) with m PerToken and d
// PerFeature: an Act value), which a user's expression may not; feature axes must still agree.
template <class Op, expression... Args>
constexpr auto node(Args...) {
    using joined = broadcast_t<kind_of<Args>...>;
    static_assert(((!kind_of<Args>::has_features || kind_of<Args>::feature_axis == joined::feature_axis) && ...),
                  "etna: autodiff combined values over different feature axes");
    return elementwise<Op, Args...>{};
}

// a / b, with b given.
template <class E, class B>
inline constexpr bool is_quotient_by = false;
template <expression A, expression B>
inline constexpr bool is_quotient_by<elementwise<prim::div, A, B>, B> = true;

template <expression A>
constexpr auto neg(A a) {
    if constexpr (is_constant<A>) {
        if constexpr (A::value == 0.0) return constant<0.0>;
        else return constant<-A::value>;
    } else if constexpr (is_negation<A>) {
        return operand_t<A, 0>{};
    } else {
        return node<prim::neg>(a);
    }
}

template <expression A, expression B>
constexpr auto sub(A a, B b);

template <expression A, expression B>
constexpr auto add(A a, B b) {
    if constexpr (is_constant<A> && is_constant<B>) return constant<A::value + B::value>;
    else if constexpr (is_zero<A>) return b;
    else if constexpr (is_zero<B>) return a;
    else if constexpr (std::is_same_v<A, B>) return node<prim::mul>(constant<2.0>, a);
    else if constexpr (is_negation<B>) return sub(a, operand_t<B, 0>{});
    else if constexpr (is_negation<A>) return sub(b, operand_t<A, 0>{});
    else return node<prim::add>(a, b);
}

// Linear sums (below). Over is the summed axis; FeatureAxis names the feature axis a sum over
// features runs along (it counts D for a value that lacks it).
template <axis Over, fixed_string FeatureAxis, expression E>
constexpr auto sum(E e);

// A is reduction R as sum() splits it: sum_f(x) + 0.5 * sum_f(x * y) for R = sum_f(x + 0.5 x y).
// The forward's mean keeps the user's sum, its adjoint's sum is split: a - a must see both.
template <class A, class R>
inline constexpr bool is_split_form_of = false;
template <class A, axis Over, expression E>
inline constexpr bool is_split_form_of<A, reduction<Over, E>> =
    std::is_same_v<A, decltype(sum<Over, kind_of<E>::feature_axis>(E{}))>;

template <expression A, expression B>
constexpr auto sub(A a, B b) {
    if constexpr (is_constant<A> && is_constant<B>) return constant<A::value - B::value>;
    else if constexpr (is_zero<B>) return a;
    else if constexpr (is_zero<A>) return neg(b);
    else if constexpr (std::is_same_v<A, B> || is_split_form_of<A, B> || is_split_form_of<B, A>) return constant<0.0>;
    else if constexpr (is_negation<B>) return add(a, operand_t<B, 0>{});
    else return node<prim::sub>(a, b);
}

template <expression A, expression B>
constexpr auto mul(A a, B b) {
    if constexpr (is_constant<A> && is_constant<B>) return constant<A::value * B::value>;
    else if constexpr (is_zero<A> || is_zero<B>) return constant<0.0>;
    else if constexpr (is_constant_equal_to<A, 1.0>) return b;
    else if constexpr (is_constant_equal_to<B, 1.0>) return a;
    else if constexpr (is_constant_equal_to<A, -1.0>) return neg(b);
    else if constexpr (is_constant_equal_to<B, -1.0>) return neg(a);
    else if constexpr (is_quotient_by<A, B>) return operand_t<A, 0>{};
    else if constexpr (is_quotient_by<B, A>) return operand_t<B, 0>{};
    else return node<prim::mul>(a, b);
}

template <expression A, expression B>
constexpr auto div(A a, B b) {
    if constexpr (is_constant<A> && is_constant<B> && !is_zero<B>) return constant<A::value / B::value>;
    else if constexpr (is_zero<A>) return constant<0.0>;
    else if constexpr (is_constant_equal_to<B, 1.0>) return a;
    else return node<prim::div>(a, b);
}

template <expression C, expression A, expression B>
constexpr auto select(C c, A a, B b) {
    if constexpr (is_zero<A> && is_zero<B>) return constant<0.0>;
    else return node<prim::select>(c, a, b);
}

template <expression A, expression B>
constexpr auto greater(A a, B b) {
    return node<prim::greater>(a, b);
}

template <expression A>
constexpr auto exp(A a) {
    return node<prim::exp>(a);
}

template <expression A, expression Like>
constexpr auto broadcast(A a, Like like) {
    return node<prim::broadcast>(a, like);
}

// a as a value of like's kind: a itself, or broadcast (the constant adjoint that sum(y) gives y).
template <expression A, expression Like>
constexpr auto fit(A a, Like like) {
    if constexpr (std::is_same_v<kind_of<A>, kind_of<Like>> || is_zero<A>) return a;
    else return broadcast(a, like);
}

template <bool Transposed, expression A, expression W>
constexpr auto matmul(A, W) {
    if constexpr (is_zero<A> || is_zero<W>) return constant<0.0>;
    else return matmul_node<A, W, Transposed>{};
}

template <expression A, expression B>
constexpr auto outer_sum(A, B) {
    if constexpr (is_zero<A> || is_zero<B>) return constant<0.0>;
    else return outer_sum_node<A, B>{};
}

namespace detail {

// A product split into the factors that vary along the axis (inner) and those that do not
// (outer, constant along it), each multiplied back together in their order.
template <axis Over, expression E>
constexpr auto split_factors(E e) {
    if constexpr (is_node_of<E, prim::mul>) {
        constexpr auto left = split_factors<Over>(operand_t<E, 0>{});
        constexpr auto right = split_factors<Over>(operand_t<E, 1>{});
        return boost::hana::make_pair(mul(boost::hana::first(left), boost::hana::first(right)),
                                      mul(boost::hana::second(left), boost::hana::second(right)));
    } else if constexpr (has_axis<Over, kind_of<E>>) {
        return boost::hana::make_pair(e, constant<1.0>);
    } else {
        return boost::hana::make_pair(constant<1.0>, e);
    }
}

// a / p with p constant along the axis.
template <axis Over, class E>
inline constexpr bool divides_by_constant_along = false;
template <axis Over, expression A, expression B>
inline constexpr bool divides_by_constant_along<Over, elementwise<prim::div, A, B>> = !has_axis<Over, kind_of<B>>;

template <axis Over, fixed_string FeatureAxis>
constexpr auto extent_along() {
    if constexpr (Over == axis::tokens) return token_count{};
    else return feature_count<FeatureAxis>{};
}

}  // namespace detail

// Where a sum counts: everywhere (sum(a)), or where a condition c holds (sum(select(c, a, 0)),
// a masked sum). Both are linear in a, and split by the same rules.
struct everywhere {};

// select(c, a, 0).
template <class E>
inline constexpr bool is_select_else_zero = false;
template <expression C, expression A, expression Z>
inline constexpr bool is_select_else_zero<elementwise<prim::select, C, A, Z>> = is_zero<Z>;

// a * b whose factor I (0 or 1) is such a select.
template <class E, std::size_t I>
inline constexpr bool has_selected_factor = false;
template <expression A, expression B, std::size_t I>
inline constexpr bool has_selected_factor<elementwise<prim::mul, A, B>, I> = is_select_else_zero<std::conditional_t<I == 0, A, B>>;

// a where w holds, 0 elsewhere.
template <class Where, expression A>
constexpr auto restricted(Where w, A a) {
    if constexpr (std::is_same_v<Where, everywhere>) return a;
    else return simplify::select(w, a, constant<0.0>);
}

// The number of entries along the axis where w holds: the extent everywhere, sum(m) for a mask
// leaf m (bound masks hold only 0 and 1), else the sum of select(c, 1, 0).
template <axis Over, fixed_string FeatureAxis, class Where>
constexpr auto count_where(Where w) {
    if constexpr (std::is_same_v<Where, everywhere>) return detail::extent_along<Over, FeatureAxis>();
    else if constexpr (is_leaf<Where> && Where::role == leaf_role::mask) return sum<Over, FeatureAxis>(w);
    else return reduction<Over, decltype(restricted(w, constant<1.0>))>{};
}

// The sum along Over of e where w holds, split: over + and -, factors constant along the axis
// out. With the masked mean m = sum_t(select(c, x, 0)) / sum_t(c) this makes
// sum_t(select(c, x - m, 0)) = sum_t(select(c, x, 0)) - m * sum_t(c) = 0, the masked form of
// "the variance does not depend on the mean to first order".
template <axis Over, fixed_string FeatureAxis, class Where, expression E>
constexpr auto sum_where(Where w, E e) {
    constexpr bool unconditional = std::is_same_v<Where, everywhere>;
    if constexpr (!has_axis<Over, kind_of<E>>) {
        return mul(e, count_where<Over, FeatureAxis>(w));
    } else if constexpr (is_node_of<E, prim::add>) {
        return add(sum_where<Over, FeatureAxis>(w, operand_t<E, 0>{}),
                   sum_where<Over, FeatureAxis>(w, operand_t<E, 1>{}));
    } else if constexpr (is_node_of<E, prim::sub>) {
        return sub(sum_where<Over, FeatureAxis>(w, operand_t<E, 0>{}),
                   sum_where<Over, FeatureAxis>(w, operand_t<E, 1>{}));
    } else if constexpr (is_node_of<E, prim::neg>) {
        return neg(sum_where<Over, FeatureAxis>(w, operand_t<E, 0>{}));
    } else if constexpr (detail::divides_by_constant_along<Over, E>) {
        return div(sum_where<Over, FeatureAxis>(w, operand_t<E, 0>{}), operand_t<E, 1>{});
    } else if constexpr (unconditional && is_select_else_zero<E>) {
        return sum_where<Over, FeatureAxis>(operand_t<E, 0>{}, operand_t<E, 1>{});
    } else if constexpr (unconditional && has_selected_factor<E, 0>) {
        // select(c, a, 0) * b = select(c, a * b, 0): 0 where c is 0 either way (b unread there)
        using selected = operand_t<E, 0>;
        return sum_where<Over, FeatureAxis>(operand_t<selected, 0>{},
                                            mul(operand_t<selected, 1>{}, operand_t<E, 1>{}));
    } else if constexpr (unconditional && has_selected_factor<E, 1>) {
        using selected = operand_t<E, 1>;
        return sum_where<Over, FeatureAxis>(operand_t<selected, 0>{},
                                            mul(operand_t<E, 0>{}, operand_t<selected, 1>{}));
    } else if constexpr (is_node_of<E, prim::mul>) {
        constexpr auto factors = detail::split_factors<Over>(e);
        using outer = std::remove_cvref_t<decltype(boost::hana::second(factors))>;
        if constexpr (is_constant_equal_to<outer, 1.0>) return reduction<Over, decltype(restricted(w, e))>{};
        else return mul(sum_where<Over, FeatureAxis>(w, boost::hana::first(factors)), outer{});
    } else {
        return reduction<Over, decltype(restricted(w, e))>{};
    }
}

template <axis Over, fixed_string FeatureAxis, expression E>
constexpr auto sum(E e) {
    return sum_where<Over, FeatureAxis>(everywhere{}, e);
}

}  // namespace etna::simplify
