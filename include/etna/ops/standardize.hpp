// standardize: centre a value and divide by its standard deviation, along the axis a mean chooses.
#pragma once

#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/ops/activations.hpp>

namespace etna {

// (x - mean(x)) * rsqrt(mean((x - mean(x))^2) + eps). LayerNorm takes mean = mean_f (over a
// token's features), BatchNorm mean = mean_t (over the tokens): the norms differ only here.
// The variance is taken of the centred values (two passes), not as E[x^2] - E[x]^2, which
// cancels catastrophically for data such as mean 1e4 with std 1e-2.
template <expression X, class Mean, expression Eps>
constexpr auto standardize(X x, const Mean& mean, Eps eps) {
    const auto centred = x - mean(x);
    return centred * rsqrt(mean(square(centred)) + eps);
}

}  // namespace etna
