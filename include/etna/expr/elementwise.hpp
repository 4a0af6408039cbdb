// Elementwise nodes: a primitive (expr/primitives.hpp) applied to operands, with broadcasting.
#pragma once

#include <boost/hana/tuple.hpp>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

// One generic node for every primitive (as Eigen's CwiseBinaryOp): the primitive is a functor
// type, so planning and printing handle all of them with one rule.
template <class Op, expression... Args>
struct elementwise : node_base {
    static_assert(sizeof...(Args) == Op::arity, "etna: wrong number of operands for this primitive");
    static constexpr node_category category = node_category::elementwise;
    using kind = broadcast_t<kind_of<Args>...>;
    using op = Op;
    static constexpr auto operands = boost::hana::tuple_t<Args...>;
    template <class... New>
    using with_operands = elementwise<Op, New...>;

    static constexpr auto adjoint(auto f, auto d, auto out, auto... args) { return Op::adjoint(f, d, out, args...); }
};

// Kind errors. Each is a class whose instantiation fails with a sentence naming the two kinds;
// its template arguments, which the compiler prints just above the sentence, are the two
// operands, so the leaves involved can be read there.
namespace diagnostic {

template <class Left, class Right>
struct per_token_with_per_feature {
    static_assert(always_false<Left>,
                  "etna: kind error: cannot combine a PerToken value with a PerFeature value (the result would be a "
                  "T x D outer product; reduce one of them, or combine each with an Act value first); the operands are "
                  "the two types in 'per_token_with_per_feature<...>' above");
};

template <class Left, class Right>
struct per_feature_with_per_token {
    static_assert(always_false<Left>,
                  "etna: kind error: cannot combine a PerFeature value with a PerToken value (the result would be a "
                  "T x D outer product; reduce one of them, or combine each with an Act value first); the operands are "
                  "the two types in 'per_feature_with_per_token<...>' above");
};

template <class Left, class Right>
struct different_feature_axes {
    static_assert(always_false<Left>,
                  "etna: kind error: cannot combine values over different feature axes (e.g. Act[d] with Act[ff]); the "
                  "operands are the two types in 'different_feature_axes<...>' above");
};

template <class Left, class Right>
struct weight_beside_other_kind {
    static_assert(always_false<Left>,
                  "etna: kind error: a weight (Weight[in->out]) combines only with a weight of the same axes or a "
                  "Scalar; a weight enters a block through linear(h, W, b); the operands are the two types in "
                  "'weight_beside_other_kind<...>' above");
};

}  // namespace diagnostic

template <expression Left, expression Right>
constexpr void check_operand_kinds() {
    using L = kind_of<Left>;
    using R = kind_of<Right>;
    if constexpr (is_per_token<L> && is_per_feature<R>) (void)sizeof(diagnostic::per_token_with_per_feature<Left, Right>);
    else if constexpr (is_per_feature<L> && is_per_token<R>) (void)sizeof(diagnostic::per_feature_with_per_token<Left, Right>);
    else if constexpr (!weight_compatible<L, R>) (void)sizeof(diagnostic::weight_beside_other_kind<Left, Right>);
    else if constexpr (!broadcastable<L, R>) (void)sizeof(diagnostic::different_feature_axes<Left, Right>);
}

// Build elementwise nodes after checking that every pair of operands' kinds can meet.
template <class Op, expression A>
constexpr auto apply_elementwise(A) {
    return elementwise<Op, A>{};
}
template <class Op, expression A, expression B>
constexpr auto apply_elementwise(A, B) {
    check_operand_kinds<A, B>();
    return elementwise<Op, A, B>{};
}
template <class Op, expression A, expression B, expression C>
constexpr auto apply_elementwise(A, B, C) {
    check_operand_kinds<A, B>();
    check_operand_kinds<A, C>();
    check_operand_kinds<B, C>();
    return elementwise<Op, A, B, C>{};
}

template <class E>
inline constexpr bool is_elementwise = is_node_category<E, node_category::elementwise>;

}  // namespace etna
