// LayerNorm: each token normalized over its own features, then scaled and shifted per feature.
#pragma once

#include <etna/expr/literal.hpp>
#include <etna/expr/mean.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/ops/parameter_checks.hpp>
#include <etna/ops/standardize.hpp>

namespace etna {

// y = (x - mean_f(x)) * rsqrt(mean_f((x - mean_f(x))^2) + eps) * gamma + beta
// A token depends on no other token: padding tokens cannot change the real ones.
template <expression X, expression G, expression B, expression Eps>
constexpr auto layer_norm(X x, G gamma, B beta, Eps eps) {
    static_assert(kind_of<X>::has_features, "etna: layer_norm(x, gamma, beta, eps): x has no feature axis to normalize over");
    static_assert(per_feature_of<X, G>, "etna: layer_norm(x, gamma, beta, eps): gamma must be PerFeature over x's features");
    static_assert(per_feature_of<X, B>, "etna: layer_norm(x, gamma, beta, eps): beta must be PerFeature over x's features");
    static_assert(is_scalar<Eps>, "etna: layer_norm(x, gamma, beta, eps): eps must be Scalar");
    return standardize(x, [](auto v) { return mean_f(v); }, eps) * gamma + beta;
}

template <expression X, expression G, expression B>
constexpr auto layer_norm(X x, G gamma, B beta) {
    return layer_norm(x, gamma, beta, constant<1e-5>);
}

}  // namespace etna
