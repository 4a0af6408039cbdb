// The seed text's table (5 tokens x 3 features): LayerNorm normalizes each row, BatchNorm each column.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

#include "reference_norms.hpp"

using namespace etna;
using testing::max_abs_difference;
using testing::seed_table;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto ln = layer_norm(x, g, b);
constexpr auto bn = batch_norm(x, g, b);

// Outputs are at most ~7 in magnitude and etna's double evaluation rounds about a dozen times on
// the way (each <= 1.1e-16 relative); the long double reference is exact to ~1e-19. 1e-13 leaves
// ~100x headroom (8.9e-16 measured), while a wrong axis, statistic or parameter moves values by
// more than 0.1, and a wrong eps by ~1e-6.
constexpr double tolerance = 1e-13;

struct affine {
    const char* name;
    std::vector<double> gamma;
    std::vector<double> beta;
};

// The initial gamma = 1, beta = 0 of the seed text, and a non-trivial one (a negative scale too).
std::vector<affine> parameter_sets() {
    return {{"gamma = 1, beta = 0", {1, 1, 1}, {0, 0, 0}}, {"non-trivial gamma and beta", {0.5, 2, -1.5}, {0.25, -1, 3}}};
}

tensor<double> layer_norm_of(const tensor<double>& z, const affine& p) {
    return interpret<double>(ln, x = z, g = p.gamma, b = p.beta);
}

tensor<double> batch_norm_of(const tensor<double>& z, const affine& p) {
    return interpret<double>(bn, x = z, g = p.gamma, b = p.beta);
}

// (value - mean) / sqrt(variance + eps) with the default eps, for the values pinned by hand.
double standardized(double value, double mean, double variance) { return (value - mean) / std::sqrt(variance + 1e-5); }

}  // namespace

TEST_CASE("LayerNorm of the seed table normalizes each row over its three features", "[seed]") {
    const tensor<double> z = seed_table();
    for (const affine& p : parameter_sets()) {
        CAPTURE(p.name);
        CHECK(max_abs_difference(layer_norm_of(z, p), testing::layer_norm_reference(z, p.gamma, p.beta)) <= tolerance);
    }
}

TEST_CASE("BatchNorm of the seed table normalizes each column over its five tokens", "[seed]") {
    const tensor<double> z = seed_table();
    for (const affine& p : parameter_sets()) {
        CAPTURE(p.name);
        CHECK(max_abs_difference(batch_norm_of(z, p), testing::batch_norm_reference(z, p.gamma, p.beta)) <= tolerance);
    }
}

TEST_CASE("row (7, 5, 4) has mean 16/3 and biased variance 14/9: its LayerNorm values by hand", "[seed]") {
    const tensor<double> z = seed_table();
    const affine identity = parameter_sets()[0];
    const tensor<double> y = layer_norm_of(z, identity);
    const double mean = 16.0 / 3.0;
    const double variance = 14.0 / 9.0;  // ((5/3)^2 + (1/3)^2 + (4/3)^2) / 3
    CHECK(std::abs(y(0, 0) - standardized(7, mean, variance)) <= tolerance);
    CHECK(std::abs(y(0, 1) - standardized(5, mean, variance)) <= tolerance);
    CHECK(std::abs(y(0, 2) - standardized(4, mean, variance)) <= tolerance);
    // The decimal value, to 1e-9: without eps it would be 1.3363062096 (5/3 / sqrt(14/9)).
    CHECK(std::abs(y(0, 0) - 1.3363019143) <= 1e-9);

    // Row (1, 2, 3): mean 2, variance 2/3; gamma and beta act per feature (column).
    const affine scaled = parameter_sets()[1];
    const tensor<double> ys = layer_norm_of(z, scaled);
    CHECK(std::abs(ys(2, 0) - (standardized(1, 2, 2.0 / 3.0) * 0.5 + 0.25)) <= tolerance);
    CHECK(std::abs(ys(2, 2) - (standardized(3, 2, 2.0 / 3.0) * -1.5 + 3)) <= tolerance);
}

TEST_CASE("the seed table's columns have means 4, 18/5, 21/5: their BatchNorm values by hand", "[seed]") {
    // The seed text's "(7 - mu1) / sigma1 = 0.36" was an assumed number; the real value is ~1.186.
    const tensor<double> z = seed_table();
    const tensor<double> y = batch_norm_of(z, parameter_sets()[0]);
    // z1 = (7, 2, 1, 7, 3): deviations (3, -2, -3, 3, -1), variance 32/5.
    CHECK(std::abs(y(0, 0) - standardized(7, 4, 32.0 / 5.0)) <= tolerance);
    CHECK(std::abs(y(2, 0) - standardized(1, 4, 32.0 / 5.0)) <= tolerance);
    CHECK(std::abs(y(0, 0) - 1.1858531961) <= 1e-9);  // 1.1858541226 without eps
    // z2 = (5, 3, 2, 5, 3): deviations (1.4, -0.6, -1.6, 1.4, -0.6), variance 36/25.
    CHECK(std::abs(y(0, 1) - standardized(5, 18.0 / 5.0, 36.0 / 25.0)) <= tolerance);
    // z3 = (4, 4, 3, 6, 4): deviations (-0.2, -0.2, -1.2, 1.8, -0.2), variance 24/25.
    CHECK(std::abs(y(3, 2) - standardized(6, 21.0 / 5.0, 24.0 / 25.0)) <= tolerance);

    const tensor<double> ys = batch_norm_of(z, parameter_sets()[1]);
    CHECK(std::abs(ys(3, 2) - (standardized(6, 21.0 / 5.0, 24.0 / 25.0) * -1.5 + 3)) <= tolerance);
}

TEST_CASE("rows (2, 3, 4) and (1, 2, 3) differ by a constant: bitwise equal under LayerNorm, not under BatchNorm",
          "[seed]") {
    // Both rows centre to exactly (-1, 0, 1), so LayerNorm must give the same bits for them;
    // BatchNorm sees each value against its column's statistics, which the rows do not share.
    const tensor<double> z = seed_table();
    for (const affine& p : parameter_sets()) {
        CAPTURE(p.name);
        const tensor<double> y = layer_norm_of(z, p);
        CHECK(testing::same_bits(tensor<double>{{y(1, 0), y(1, 1), y(1, 2)}}, tensor<double>{{y(2, 0), y(2, 1), y(2, 2)}}));
        const tensor<double> yb = batch_norm_of(z, p);
        CHECK(std::abs(yb(1, 0) - yb(2, 0)) > 0.1);
    }
}
