// Means over features and over tokens, the latter optionally over the unmasked tokens only.
#pragma once

#include <etna/expr/extent.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/expr/reduction.hpp>

namespace etna {

// mean_f(x) = sum_f(x) / D: per token, the mean over its features.
template <expression E>
constexpr auto mean_f(E x) {
    return sum_f(x) / extent<axis::features, kind_of<E>::feature_axis>{};
}

// mean_t(x) = sum_t(x) / T: per feature, the mean over all tokens.
template <expression E>
constexpr auto mean_t(E x) {
    return sum_t(x) / token_count{};
}

// mean_t(x, m) = sum_t(select(m, x, 0)) / sum_t(m): per feature, the mean over the tokens where
// the PerToken mask m is 1. A token where m is 0 (padding) is never read into the sum, so it may
// hold anything, NaN included. Bound mask leaves are checked to hold only 0 and 1, and a mask of
// one token or more that keeps none, whose mean would be 0 / 0, is refused with an error that
// names it (runtime/binding.hpp, check_mask_keeps_a_token). Over zero tokens the mean is 0 / 0, a
// NaN, as mean_t(x)'s.
template <expression E, expression M>
constexpr auto mean_t(E x, M m) {
    static_assert(std::is_same_v<kind_of<M>, PerToken>, "etna: mean_t(x, mask): the mask must be PerToken (one weight per token)");
    return sum_t(select(m, x, constant<0.0>)) / sum_t(m);
}

}  // namespace etna
