// Norms against their definitions: RMSNorm, LayerNorm, BatchNorm and masked BatchNorm, on random and hard data.
#include <cmath>
#include <cstddef>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

#include "reference_norms.hpp"

using namespace etna;
using testing::max_abs_difference;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto eps = scalar<"eps">;
constexpr auto pad = mask<"pad">;
constexpr auto rms = rms_norm(x, g);
constexpr auto ln = layer_norm(x, g, b);
constexpr auto ln_eps = layer_norm(x, g, b, eps);
constexpr auto bn = batch_norm(x, g, b);
constexpr auto bn_masked = batch_norm_masked(x, pad, g, b);

constexpr double default_eps = 1e-5;

// Normalized values are O(1) (|z| < 6 here) and reach the output through a few dozen double
// roundings (sums over <= 64 values, a sqrt, a division): 1.3e-15 measured. 1e-13 is ~75x that,
// and a wrong statistic, axis or eps moves values by 1e-6 or more.
constexpr double tolerance = 1e-13;

std::vector<double> filled(std::size_t n, double value) { return std::vector<double>(n, value); }

// Shapes the norms must handle: a typical one, an odd width, one feature, one token.
struct shape {
    std::size_t tokens;
    std::size_t features;
};
constexpr shape shapes[] = {{12, 64}, {7, 33}, {9, 1}, {1, 17}};

tensor<double> layer_norm_of(const tensor<double>& data, const std::vector<double>& gamma, const std::vector<double>& beta) {
    return interpret<double>(ln, x = data, g = gamma, b = beta);
}

tensor<double> layer_norm_of(const tensor<double>& data, double epsilon) {
    const std::vector<double> ones = filled(data.cols(), 1.0);
    const std::vector<double> zeros = filled(data.cols(), 0.0);
    return interpret<double>(ln_eps, x = data, g = ones, b = zeros, eps = epsilon);
}

tensor<double> batch_norm_of(const tensor<double>& data, const std::vector<double>& gamma, const std::vector<double>& beta) {
    return interpret<double>(bn, x = data, g = gamma, b = beta);
}

// Each row r of data with f(r, value) applied to its values.
template <class F>
tensor<double> per_row(const tensor<double>& data, F f) {
    tensor<double> out(data.rows(), data.cols());
    for (std::size_t r = 0; r < data.rows(); ++r)
        for (std::size_t c = 0; c < data.cols(); ++c) out(r, c) = f(r, data(r, c));
    return out;
}

// The rows of data where keep is 1, in order.
tensor<double> kept_rows(const tensor<double>& data, const std::vector<double>& keep) {
    std::size_t count = 0;
    for (const double k : keep) count += k == 1.0;
    tensor<double> out(count, data.cols());
    for (std::size_t r = 0, o = 0; r < data.rows(); ++r)
        if (keep[r] == 1.0) {
            for (std::size_t c = 0; c < data.cols(); ++c) out(o, c) = data(r, c);
            ++o;
        }
    return out;
}

// LayerNorm with the one-pass variance E[x^2] - E[x]^2, in double: what etna must not do. It
// shows that the hard-data tolerance below would catch a one-pass variance.
tensor<double> one_pass_layer_norm(const tensor<double>& data, const std::vector<double>& gamma, const std::vector<double>& beta) {
    tensor<double> y(data.rows(), data.cols());
    const double n = static_cast<double>(data.cols());
    for (std::size_t r = 0; r < data.rows(); ++r) {
        double sum = 0;
        double squares = 0;
        for (std::size_t c = 0; c < data.cols(); ++c) {
            sum += data(r, c);
            squares += data(r, c) * data(r, c);
        }
        const double mean = sum / n;
        const double variance = squares / n - mean * mean;
        for (std::size_t c = 0; c < data.cols(); ++c)
            y(r, c) = (data(r, c) - mean) / std::sqrt(variance + default_eps) * gamma[c] + beta[c];
    }
    return y;
}

// Output statistics a norm must produce: mean 0 and biased variance var / (var + eps) (unit
// variance but for eps) along each line, where var is the input line's variance. The data below
// have |mean| 3 and std 0.1: the rounding of the computed mean (a few ulp(3), ~1e-15) divided by
// the std moves the output mean by ~1e-14 (1.3e-14 measured), so 1e-12; eps's effect on the
// variance is 1e-3, 1e9 times larger, so leaving eps out of the expected variance would fail.
void check_standardized(const testing::values& in, const testing::values& out) {
    constexpr double statistics_tolerance = 1e-12;
    const testing::moments before = testing::moments_of(in);
    const testing::moments after = testing::moments_of(out);
    CHECK(std::abs(static_cast<double>(after.mean)) <= statistics_tolerance);
    CHECK(std::abs(static_cast<double>(after.variance - before.variance / (before.variance + default_eps))) <=
          statistics_tolerance);
}

}  // namespace

TEST_CASE("RMSNorm equals its closed form x / sqrt(mean(x^2) + eps) * gamma", "[norms]") {
    for (const shape s : shapes) {
        CAPTURE(s.tokens, s.features);
        // Mean 0.5: RMSNorm must not centre, and a centring bug would show as an O(1) error.
        const tensor<double> data = testing::random_tensor<double>(s.tokens, s.features, 21, 0.5, 2.0);
        const std::vector<double> gamma = testing::random_vector(s.features, 22, 1.0, 0.5);
        const tensor<double> y = interpret<double>(rms, x = data, g = gamma);
        CHECK(max_abs_difference(y, testing::rms_norm_reference(data, gamma)) <= tolerance);
    }
}

TEST_CASE("LayerNorm equals its definition for random gamma and beta", "[norms]") {
    for (const shape s : shapes) {
        CAPTURE(s.tokens, s.features);
        const tensor<double> data = testing::random_tensor<double>(s.tokens, s.features, 23, -1.0, 3.0);
        const std::vector<double> gamma = testing::random_vector(s.features, 24, 1.0, 0.5);
        const std::vector<double> beta = testing::random_vector(s.features, 25, 0.0, 1.0);
        CHECK(max_abs_difference(layer_norm_of(data, gamma, beta), testing::layer_norm_reference(data, gamma, beta)) <= tolerance);
    }
}

TEST_CASE("LayerNorm with gamma = 1, beta = 0 gives each row mean 0 and variance 1 (but for eps)", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(12, 64, 26, 3.0, 0.1);  // variance 0.01: eps shows
    const tensor<double> y = layer_norm_of(data, filled(64, 1.0), filled(64, 0.0));
    for (std::size_t r = 0; r < data.rows(); ++r) {
        CAPTURE(r);
        check_standardized(testing::row_of(data, r), testing::row_of(y, r));
    }
}

TEST_CASE("LayerNorm is invariant to adding a constant to a row", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(12, 33, 27);
    const tensor<double> shifted = per_row(data, [](std::size_t r, double v) { return v + 10.0 * static_cast<double>(r) - 50.0; });
    const std::vector<double> gamma = testing::random_vector(33, 28, 1.0, 0.5);
    const std::vector<double> beta = testing::random_vector(33, 29, 0.0, 1.0);
    // Only the rounding of v + c (<= ulp(60) / 2 ~ 7e-15, over a row std ~1) separates the two.
    CHECK(max_abs_difference(layer_norm_of(shifted, gamma, beta), layer_norm_of(data, gamma, beta)) <= 1e-12);
}

TEST_CASE("LayerNorm is invariant to scaling a row, up to eps", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(12, 33, 30);
    const auto times = [&data](double s) { return per_row(data, [s](std::size_t, double v) { return s * v; }); };
    // Scaling by s scales the variance by s^2: LN(s x; eps) = LN(x; eps / s^2). For s = 8 every
    // step is exact in binary floating point, so the bits agree; for s = 3 rounding is ~1e-15.
    CHECK(testing::same_bits(layer_norm_of(times(8.0), default_eps), layer_norm_of(data, default_eps / 64.0)));
    CHECK(max_abs_difference(layer_norm_of(times(3.0), default_eps), layer_norm_of(data, default_eps / 9.0)) <= 1e-12);

    // A different scale per row (0.5 to 1024) with the same eps: outputs agree to within eps's effect,
    // |z| * eps * |1 - 1 / s^2| / (2 var) <= 3 * 1.5e-5 / var, about 9e-5 for these rows (2.8e-5 measured).
    const tensor<double> row_scaled =
        per_row(data, [](std::size_t r, double v) { return v * std::pow(2.0, static_cast<double>(r) - 1.0); });
    CHECK(max_abs_difference(layer_norm_of(row_scaled, default_eps), layer_norm_of(data, default_eps)) <= 1e-4);
}

TEST_CASE("LayerNorm of rows with mean 1e4 and std 1e-2 matches a long double two-pass reference", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(16, 257, 31, 1e4, 1e-2);
    const std::vector<double> gamma = testing::random_vector(257, 32, 1.0, 0.5);
    const std::vector<double> beta = testing::random_vector(257, 33, 0.0, 1.0);
    const tensor<double> reference = testing::layer_norm_reference(data, gamma, beta);
    // Summing 257 values of 1e4 leaves ~1e-11 of rounding in each row's mean; divided by the row's
    // std (~1e-2) that is ~1e-9 in the output (1.5e-9 measured). 1e-8 leaves headroom, and is
    // 1e5 times tighter than the error of a one-pass variance on the same data (3e-3 measured).
    constexpr double hard_tolerance = 1e-8;
    CHECK(max_abs_difference(layer_norm_of(data, gamma, beta), reference) <= hard_tolerance);
    CHECK(max_abs_difference(one_pass_layer_norm(data, gamma, beta), reference) > 1e3 * hard_tolerance);
}

TEST_CASE("eps bound at run time to a scalar leaf equals the constant default eps", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(12, 33, 34, 0.0, 0.01);  // variance 1e-4: eps matters
    const std::vector<double> ones = filled(33, 1.0);
    const std::vector<double> zeros = filled(33, 0.0);
    // The same number through a leaf or a literal: the same bits.
    CHECK(testing::same_bits(layer_norm_of(data, default_eps), layer_norm_of(data, ones, zeros)));
    // And the bound value is the one used: a large eps matches the reference with that eps.
    CHECK(max_abs_difference(layer_norm_of(data, 1e-3), testing::layer_norm_reference(data, ones, zeros, 1e-3)) <= tolerance);
    CHECK(max_abs_difference(layer_norm_of(data, 1e-3), layer_norm_of(data, default_eps)) > 0.1);
}

TEST_CASE("BatchNorm equals its definition for random gamma and beta", "[norms]") {
    for (const shape s : shapes) {
        CAPTURE(s.tokens, s.features);
        const tensor<double> data = testing::random_tensor<double>(s.tokens, s.features, 35, 2.0, 3.0);
        const std::vector<double> gamma = testing::random_vector(s.features, 36, 1.0, 0.5);
        const std::vector<double> beta = testing::random_vector(s.features, 37, 0.0, 1.0);
        CHECK(max_abs_difference(batch_norm_of(data, gamma, beta), testing::batch_norm_reference(data, gamma, beta)) <= tolerance);
    }
}

TEST_CASE("BatchNorm with gamma = 1, beta = 0 gives each column mean 0 and variance 1 (but for eps)", "[norms]") {
    const tensor<double> data = testing::random_tensor<double>(40, 9, 38, -3.0, 0.1);
    const tensor<double> y = batch_norm_of(data, filled(9, 1.0), filled(9, 0.0));
    for (std::size_t c = 0; c < data.cols(); ++c) {
        CAPTURE(c);
        check_standardized(testing::column_of(data, c), testing::column_of(y, c));
    }
}

TEST_CASE("batch_norm_masked equals batch_norm of only the unmasked tokens", "[norms]") {
    // Masked-out tokens hold ordinary random values (not zeros), scattered among the kept ones.
    const tensor<double> data = testing::random_tensor<double>(10, 7, 39, 1.0, 2.0);
    const std::vector<double> keep{1, 0, 1, 1, 0, 0, 1, 1, 0, 1};
    const std::vector<double> gamma = testing::random_vector(7, 40, 1.0, 0.5);
    const std::vector<double> beta = testing::random_vector(7, 41, 0.0, 1.0);
    const tensor<double> y = interpret<double>(bn_masked, x = data, pad = keep, g = gamma, b = beta);
    // The masked sums add x * 0 = +-0 to exact partial sums and the mask's sum is the exact
    // count, so the kept tokens' outputs have the same bits as BatchNorm of those tokens alone.
    CHECK(testing::same_bits(kept_rows(y, keep), batch_norm_of(kept_rows(data, keep), gamma, beta)));
}

TEST_CASE("a mask that masks every token is refused, naming the mask, wherever a masked mean runs", "[norms]") {
    // Its statistics would be 0 / 0: NaN in every output, and through 0 * NaN in every gradient.
    const tensor<double> data = testing::random_tensor<double>(4, 5, 42);
    const std::vector<double> none(4, 0.0);
    const std::vector<double> ones = filled(5, 1.0);
    const std::vector<double> zeros = filled(5, 0.0);
    const auto refused = Catch::Contains("mask 'pad' masks every one of its 4 tokens");
    CHECK_THROWS_WITH(interpret<double>(bn_masked, x = data, pad = none, g = ones, b = zeros), refused);
    auto kernel = compile(bn_masked);
    CHECK_THROWS_WITH(kernel(x = data, pad = none, g = ones, b = zeros), refused);
    const tensor<double> dy = testing::random_tensor<double>(4, 5, 43);
    CHECK_THROWS_WITH(interpret<double>(grad(bn_masked, wrt(x, g, b)), x = data, pad = none, g = ones, input<"dy"> = dy),
                      refused);
    auto pair = vjp(bn_masked, wrt(x, g, b));
    CHECK_THROWS_WITH(pair.forward(x = data, pad = none, g = ones, b = zeros), refused);
    CHECK_THROWS_AS(interpret<double>(bn_masked, x = data, pad = none, g = ones, b = zeros), etna::error);

    // One token kept is enough; a graph that only selects with the mask takes no mean over it;
    // over no tokens at all the statistics are 0 / 0, as plain BatchNorm's.
    std::vector<double> one = none;
    one[2] = 1;
    const tensor<double> y = interpret<double>(bn_masked, x = data, pad = one, g = ones, b = zeros);
    for (std::size_t c = 0; c < 5; ++c) CHECK(y(2, c) == 0);  // its own mean, centred to 0
    CHECK_NOTHROW(interpret<double>(select(pad, x, constant<0.0>), x = data, pad = none));
    const tensor<double> no_tokens(0, 5);
    const std::vector<double> no_mask;
    const auto [empty, statistic] = interpret<double>(outputs(bn_masked, mean_t(x, pad)), x = no_tokens, pad = no_mask,
                                                      g = ones, b = zeros);
    CHECK(empty.rows() == 0);
    CHECK(std::isnan(statistic(0, 0)));
}
