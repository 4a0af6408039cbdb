// Linear layers and the feed-forward sublayer, as compositions of a contraction and elementwise nodes.
#pragma once

#include <etna/expr/contraction.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/ops/activations.hpp>
#include <etna/ops/parameter_checks.hpp>

namespace etna {

// linear(h, W, b) = h W + b: per token, features over W's input axis to features over its output
// axis (d -> ff with weight<"W1", "d", "ff">), plus a bias over the output axis.
template <expression H, expression W, expression B>
constexpr auto linear(H h, W w, B b) {
    const auto product = matmul(h, w);
    constexpr bool bias_fits = per_feature_of<decltype(product), B>;
    static_assert(bias_fits, "etna: linear(h, W, b): b must be PerFeature over W's output axis (param<\"b\", "
                             "per_feature_over<\"ff\">> for a weight<\"W\", \"d\", \"ff\">)");
    if constexpr (bias_fits) return product + b;
    else return product;
}

// The feed-forward sublayer of a transformer block: linear(activation(linear(h, W1, b1)), W2, b2),
// d -> ff -> d, with GELU unless another activation is given.
template <expression H, expression W1, expression B1, expression W2, expression B2>
constexpr auto ffn(H h, W1 w1, B1 b1, W2 w2, B2 b2) {
    return linear(gelu(linear(h, w1, b1)), w2, b2);
}

template <expression H, expression W1, expression B1, expression W2, expression B2, class Activation>
constexpr auto ffn(H h, W1 w1, B1 b1, W2 w2, B2 b2, const Activation& activation) {
    return linear(activation(linear(h, w1, b1)), w2, b2);
}

}  // namespace etna
