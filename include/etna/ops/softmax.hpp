// softmax and log_softmax over a token's features, as compositions: a maximum, then a sum.
#pragma once

#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/expr/reduction.hpp>

namespace etna {

// exp(x - m) / sum_f(exp(x - m)) with m = max_f(x): per token, a distribution over its features.
// Subtracting the maximum changes nothing in exact arithmetic and keeps every exponential in
// (0, 1], so no float logit is too large; and since the result does not depend on m, no
// gradient flows through it (stop_gradient: the backward is then one sum and one write per
// row, as the textbook's). Like LayerNorm it is a statistic over the feature axis (here two:
// the maximum and the sum), then a map per element.
template <expression E>
constexpr auto softmax(E x) {
    if constexpr (!(kind_of<E>::has_tokens && kind_of<E>::has_features)) {
        static_assert(always_false<E>, "etna: softmax(x) needs an Act value (tokens x features)");
        return x;  // no follow-on errors after the message
    } else {
        const auto e = exp(x - stop_gradient(max_f(x)));
        return e / sum_f(e);
    }
}

// x - m - log(sum_f(exp(x - m))), m = max_f(x) as in softmax: the logarithm of softmax(x),
// without the rounding of a log of a small quotient.
template <expression E>
constexpr auto log_softmax(E x) {
    if constexpr (!(kind_of<E>::has_tokens && kind_of<E>::has_features)) {
        static_assert(always_false<E>, "etna: log_softmax(x) needs an Act value (tokens x features)");
        return x;
    } else {
        const auto shifted = x - stop_gradient(max_f(x));
        return shifted - log(sum_f(exp(shifted)));
    }
}

}  // namespace etna
