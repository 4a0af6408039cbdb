// The transformer blocks the linear-layer tests share: an FFN sublayer d -> ff -> d in a
// pre-norm and a post-norm block, with LayerNorm.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <etna/etna.hpp>

namespace etna::testing::ffn_block {

inline constexpr auto x = input<"x">;
inline constexpr auto dy = input<"dy">;
inline constexpr auto W1 = weight<"W1", "d", "ff">;
inline constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
inline constexpr auto W2 = weight<"W2", "ff", "d">;
inline constexpr auto b2 = param<"b2">;
inline constexpr auto g = param<"g">;
inline constexpr auto b = param<"b">;

inline constexpr auto sublayer = [](auto h) { return ffn(h, W1, b1, W2, b2); };
inline constexpr auto by_layer_norm = [](auto v) { return layer_norm(v, g, b); };
inline constexpr auto pre = pre_norm(x, by_layer_norm, sublayer);
inline constexpr auto post = post_norm(x, by_layer_norm, sublayer);

// The largest elementwise difference of two matrices of any element types (tensors or views).
template <class A, class B>
double max_abs_difference(const A& a, const B& b) {
    double worst = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) worst = std::max(worst, std::abs(double(a(r, c)) - double(b(r, c))));
    return worst;
}

}  // namespace etna::testing::ffn_block
