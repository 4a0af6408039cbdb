// Losses as compositions: mean squared error, and softmax cross-entropy with one-hot targets.
#pragma once

#include <type_traits>

#include <etna/expr/literal.hpp>
#include <etna/expr/mean.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/expr/reduction.hpp>
#include <etna/ops/parameter_checks.hpp>

namespace etna {

// The mean over tokens and features of (y - target)^2: a Scalar.
template <expression Y, expression Target>
constexpr auto mse_loss(Y y, Target target) {
    constexpr bool same_acts = is_act<Y> && std::is_same_v<kind_of<Y>, kind_of<Target>>;
    static_assert(same_acts, "etna: mse_loss(y, target): y and target must be Act values of the same kind");
    if constexpr (same_acts) {
        const auto error = y - target;
        return mean_t(mean_f(error * error));
    } else {
        return constant<0.0>;  // a Scalar in place of the refused loss: the assertion is the only error
    }
}

// The mean over tokens of -log softmax(logits)[class], the class given as a one-hot row of
// `target` (1 at the class, 0 elsewhere): log(sum_f(exp(logits))) - sum_f(target * logits).
// The exponentials are taken of logits - max_f(logits), as softmax's are (ops/softmax.hpp):
// each in (0, 1], so the loss is finite for any finite logits; the loss does not depend on the
// shift, so no gradient flows through it.
template <expression Logits, expression Target>
constexpr auto softmax_cross_entropy(Logits logits, Target target) {
    constexpr bool same_acts = is_act<Logits> && std::is_same_v<kind_of<Logits>, kind_of<Target>>;
    static_assert(same_acts,
                  "etna: softmax_cross_entropy(logits, target): logits and the one-hot target must be Act values of "
                  "the same kind");
    if constexpr (same_acts) {
        const auto shift = stop_gradient(max_f(logits));
        return mean_t(log(sum_f(exp(logits - shift))) + shift - sum_f(target * logits));
    } else {
        return constant<0.0>;  // as mse_loss's
    }
}

}  // namespace etna
