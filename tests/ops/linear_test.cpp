// Linear layers: kinds of the contractions, their values against plain loops, printed formulas,
// and the derived gradients of linear, the FFN sublayer and both blocks against finite differences.
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/ffn_block.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using testing::random_tensor;

using namespace etna::testing::ffn_block;

namespace {

template <class E, class K>
constexpr bool has_kind(E) {
    return std::is_same_v<kind_of<E>, K>;
}

// A block's data: 7 tokens, d = 5, ff = 11 (odd, so that no loop length is a power of two),
// weights scaled as at initialization (std 1/sqrt(fan_in)).
struct block_data {
    tensor<double> tokens = random_tensor(7, 5, 61);
    tensor<double> w1 = random_tensor(5, 11, 62, 0.0, 0.45);
    tensor<double> bias1 = random_tensor(1, 11, 63, 0.0, 0.1);
    tensor<double> w2 = random_tensor(11, 5, 64, 0.0, 0.3);
    tensor<double> bias2 = random_tensor(1, 5, 65, 0.0, 0.1);
    tensor<double> gamma = random_tensor(1, 5, 66, 1.0, 0.2);
    tensor<double> beta = random_tensor(1, 5, 67, 0.0, 0.2);
};

// h W + b by plain loops.
tensor<double> linear_reference(const tensor<double>& h, const tensor<double>& w, const tensor<double>& bias) {
    tensor<double> y(h.rows(), w.cols());
    for (std::size_t t = 0; t < h.rows(); ++t)
        for (std::size_t o = 0; o < w.cols(); ++o) {
            double sum = 0;
            for (std::size_t i = 0; i < h.cols(); ++i) sum += h(t, i) * w(i, o);
            y(t, o) = sum + bias(0, o);
        }
    return y;
}

}  // namespace

TEST_CASE("a weight has two feature axes, and each contraction the documented kind", "[linear]") {
    STATIC_REQUIRE(has_kind<decltype(W1), weight_kind<"d", "ff">>(W1));
    STATIC_REQUIRE(has_kind<decltype(matmul(x, W1)), act_over<"ff">>(matmul(x, W1)));
    STATIC_REQUIRE(has_kind<decltype(matmul_t(matmul(x, W1), W1)), Act>(matmul_t(matmul(x, W1), W1)));
    STATIC_REQUIRE(has_kind<decltype(outer_sum(x, matmul(x, W1))), weight_kind<"d", "ff">>(outer_sum(x, matmul(x, W1))));
    STATIC_REQUIRE(has_kind<decltype(linear(x, W1, b1)), act_over<"ff">>(linear(x, W1, b1)));
    STATIC_REQUIRE(has_kind<decltype(sublayer(x)), Act>(sublayer(x)));
    // A weight meets a weight of its axes or a Scalar (an optimizer's update), nothing else.
    STATIC_REQUIRE(has_kind<decltype(W1 - scalar<"lr"> * W1), weight_kind<"d", "ff">>(W1 - scalar<"lr"> * W1));
    STATIC_REQUIRE(!broadcastable<weight_kind<"d", "ff">, Act>);
    STATIC_REQUIRE(!broadcastable<weight_kind<"d", "ff">, PerFeature>);
    STATIC_REQUIRE(!broadcastable<weight_kind<"d", "ff">, weight_kind<"ff", "d">>);
    CHECK(kind_name(W1) == "Weight[d->ff]");
    CHECK(kind_name(b1) == "PerFeature[ff]");
}

TEST_CASE("linear and the FFN sublayer equal plain loops", "[linear]") {
    const block_data data;
    const auto hidden = linear_reference(data.tokens, data.w1, data.bias1);
    tensor<double> activated(hidden.rows(), hidden.cols());
    for (std::size_t i = 0; i < hidden.size(); ++i) {
        const double u = hidden.data()[i];
        activated.data()[i] = 0.5 * u * (1 + std::erf(u / std::sqrt(2.0)));
    }
    const auto expected = linear_reference(activated, data.w2, data.bias2);
    const auto [first, out] = interpret<double>(outputs(linear(x, W1, b1), sublayer(x)), x = data.tokens, W1 = data.w1,
                                                b1 = data.bias1, W2 = data.w2, b2 = data.bias2);
    CHECK(max_abs_difference(first, hidden) < 1e-14);
    CHECK(max_abs_difference(out, expected) < 1e-14);
}

TEST_CASE("outer_sum and matmul_t equal plain loops", "[linear]") {
    const block_data data;
    const auto dy = random_tensor(7, 11, 68);
    constexpr auto d = input<"d", act_over<"ff">>;
    const auto [back, weight_gradient] = interpret<double>(outputs(matmul_t(d, W1), outer_sum(x, d)), d = dy, W1 = data.w1,
                                                           x = data.tokens);
    double worst = 0;
    for (std::size_t t = 0; t < 7; ++t)
        for (std::size_t i = 0; i < 5; ++i) {
            double sum = 0;
            for (std::size_t o = 0; o < 11; ++o) sum += dy(t, o) * data.w1(i, o);
            worst = std::max(worst, std::abs(back(t, i) - sum));
        }
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t o = 0; o < 11; ++o) {
            double sum = 0;
            for (std::size_t t = 0; t < 7; ++t) sum += data.tokens(t, i) * dy(t, o);
            worst = std::max(worst, std::abs(weight_gradient(i, o) - sum));
        }
    CHECK(worst < 1e-14);
}

TEST_CASE("gradients of linear are contractions, derived, not written", "[linear][grad]") {
    // dX = dY Wᵀ, dW = Xᵀ dY summed over tokens, db = the sum of dY over tokens.
    CHECK(fmt::format("{}", grad(linear(x, W1, b1), wrt(x, W1, b1))) ==
          "outputs(matmul_t(dy, W1), outer_sum(x, dy), sum_t(dy))");
    CHECK(fmt::format("{}", linear(x, W1, b1)) == "matmul(x, W1) + b1");
}

TEST_CASE("the gradients of linear, the FFN and both blocks pass a finite-difference check", "[linear][grad]") {
    const block_data data;
    const auto passes = [](const gradient_check_result& result) {
        INFO(result.report);
        return result.passed;
    };
    CHECK(passes(check_gradient(linear(x, W1, b1), wrt(x, W1, b1), x = data.tokens, W1 = data.w1, b1 = data.bias1)));
    CHECK(passes(check_gradient(sublayer(x), wrt(x, W1, b1, W2, b2), x = data.tokens, W1 = data.w1, b1 = data.bias1,
                                W2 = data.w2, b2 = data.bias2)));
    const auto block = [&](auto out) {
        return passes(check_gradient(out, wrt(x, g, b, W1, b1, W2, b2), x = data.tokens, W1 = data.w1, b1 = data.bias1,
                                     W2 = data.w2, b2 = data.bias2, g = data.gamma, b = data.beta));
    };
    CHECK(block(pre_norm(x, by_layer_norm, sublayer)));
    CHECK(block(post_norm(x, by_layer_norm, sublayer)));
    // A loss summed from a contraction seeds it with a constant: the rule broadcasts it.
    CHECK(passes(check_gradient(sum_t(sum_f(matmul(x, W1))), wrt(x, W1), x = data.tokens, W1 = data.w1)));
}
