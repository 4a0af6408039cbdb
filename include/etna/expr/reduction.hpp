// Reductions: sums over features (Act -> PerToken) and over tokens (Act -> PerFeature).
#pragma once

#include <boost/hana/tuple.hpp>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

// The one reduction primitive. Means and masked means are compositions (expr/mean.hpp).
template <axis Over, expression Arg>
struct reduction : node_base {
    static_assert(!is_weight<kind_of<Arg>>, "etna: a weight is not summed by sum_f or sum_t (it has two feature axes)");
    using kind = reduced_kind_t<Over, kind_of<Arg>>;
    static constexpr axis over = Over;
    static constexpr auto operands = boost::hana::tuple_t<Arg>;
    template <class... New>
    using with_operands = reduction<Over, New...>;

    // Every summed element gets the sum's adjoint: d, which lacks the summed axis, broadcast
    // along it (the arguments as for a primitive's rule, expr/primitives.hpp).
    static constexpr auto adjoint(auto, auto d, auto, auto) { return prim::adjoints(d); }
};

// sum_f(x): per token, the sum of x over its features.
template <expression E>
constexpr auto sum_f(E) {
    static_assert(kind_of<E>::has_features,
                  "etna: sum_f(x) sums over features, but x has no feature axis (it is PerToken or Scalar)");
    return reduction<axis::features, E>{};
}

// sum_t(x): per feature, the sum of x over the tokens.
template <expression E>
constexpr auto sum_t(E) {
    static_assert(kind_of<E>::has_tokens,
                  "etna: sum_t(x) sums over tokens, but x has no token axis (it is PerFeature or Scalar)");
    return reduction<axis::tokens, E>{};
}

template <class E>
inline constexpr bool is_reduction = false;
template <axis Over, expression Arg>
inline constexpr bool is_reduction<reduction<Over, Arg>> = true;

}  // namespace etna
