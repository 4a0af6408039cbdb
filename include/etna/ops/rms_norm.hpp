// RMSNorm: LayerNorm without the mean-centring and without the shift.
#pragma once

#include <etna/expr/literal.hpp>
#include <etna/expr/mean.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/ops/activations.hpp>
#include <etna/ops/parameter_checks.hpp>

namespace etna {

// y = x * rsqrt(mean_f(x^2) + eps) * gamma
template <expression X, expression G, expression Eps>
constexpr auto rms_norm(X x, G gamma, Eps eps) {
    static_assert(kind_of<X>::has_features, "etna: rms_norm(x, gamma, eps): x has no feature axis to normalize over");
    static_assert(per_feature_of<X, G>, "etna: rms_norm(x, gamma, eps): gamma must be PerFeature over x's features");
    static_assert(is_scalar<Eps>, "etna: rms_norm(x, gamma, eps): eps must be Scalar");
    return x * rsqrt(mean_f(square(x)) + eps) * gamma;
}

template <expression X, expression G>
constexpr auto rms_norm(X x, G gamma) {
    return rms_norm(x, gamma, constant<1e-5>);
}

}  // namespace etna
