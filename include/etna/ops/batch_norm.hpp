// BatchNorm: each feature normalized over the tokens of the batch; masked form skips padding.
#pragma once

#include <etna/expr/literal.hpp>
#include <etna/expr/mean.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/ops/parameter_checks.hpp>
#include <etna/ops/standardize.hpp>

namespace etna {

// y = (x - mean_t(x)) * rsqrt(mean_t((x - mean_t(x))^2) + eps) * gamma + beta, with batch
// statistics (training mode, biased variance). Every token's output depends on every token:
// appending zero-padded tokens shifts the statistics of the real ones. Kept as the contrast to
// LayerNorm; the difference is only the axis of the means.
template <expression X, expression G, expression B, expression Eps>
constexpr auto batch_norm(X x, G gamma, B beta, Eps eps) {
    static_assert(is_act<X>, "etna: batch_norm(x, gamma, beta, eps): x must be Act (tokens x features)");
    static_assert(per_feature_of<X, G>, "etna: batch_norm(x, gamma, beta, eps): gamma must be PerFeature over x's features");
    static_assert(per_feature_of<X, B>, "etna: batch_norm(x, gamma, beta, eps): beta must be PerFeature over x's features");
    static_assert(is_scalar<Eps>, "etna: batch_norm(x, gamma, beta, eps): eps must be Scalar");
    return standardize(x, [](auto v) { return mean_t(v); }, eps) * gamma + beta;
}

template <expression X, expression G, expression B>
constexpr auto batch_norm(X x, G gamma, B beta) {
    return batch_norm(x, gamma, beta, constant<1e-5>);
}

// BatchNorm whose statistics are taken over the tokens where the PerToken mask is 1 only, so
// padding tokens (mask 0) change nothing. Their own outputs are computed but meaningless. A mask
// that masks every token is refused when the graph runs, with an etna::error naming it: the
// statistics would be 0 / 0, NaN in every output and every gradient, and any value put in their
// place would pass for a result (expr/mean.hpp, runtime/binding.hpp).
template <expression X, expression M, expression G, expression B, expression Eps>
constexpr auto batch_norm_masked(X x, M mask, G gamma, B beta, Eps eps) {
    static_assert(is_act<X>, "etna: batch_norm_masked(x, mask, gamma, beta, eps): x must be Act (tokens x features)");
    static_assert(std::is_same_v<kind_of<M>, PerToken>, "etna: batch_norm_masked(x, mask, gamma, beta, eps): mask must be PerToken");
    static_assert(per_feature_of<X, G>, "etna: batch_norm_masked(x, mask, gamma, beta, eps): gamma must be PerFeature over x's features");
    static_assert(per_feature_of<X, B>, "etna: batch_norm_masked(x, mask, gamma, beta, eps): beta must be PerFeature over x's features");
    static_assert(is_scalar<Eps>, "etna: batch_norm_masked(x, mask, gamma, beta, eps): eps must be Scalar");
    return standardize(x, [mask](auto v) { return mean_t(v, mask); }, eps) * gamma + beta;
}

template <expression X, expression M, expression G, expression B>
constexpr auto batch_norm_masked(X x, M mask, G gamma, B beta) {
    return batch_norm_masked(x, mask, gamma, beta, constant<1e-5>);
}

}  // namespace etna
