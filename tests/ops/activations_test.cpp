// Activations against their closed forms in double, from 0 to +-1000, with the limits and NaN.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

#include "reference_norms.hpp"

using namespace etna;
namespace reference = testing::activation;

namespace {

constexpr auto x = input<"x">;
// One graph for all six activations: one interpreter instantiation to compile, not six.
constexpr auto all = outputs(square(x), sigmoid(x), relu(x), silu(x), gelu(x), gelu_tanh(x));

struct activations {
    tensor<double> square, sigmoid, relu, silu, gelu, gelu_tanh;
};

// Each activation of each input (a column: one feature per token).
activations activations_of(const std::vector<double>& inputs) {
    tensor<double> in(inputs.size(), 1);
    std::copy(inputs.begin(), inputs.end(), in.data());
    auto [sq, sg, re, si, ge, gt] = interpret<double>(all, x = in);
    return {std::move(sq), std::move(sg), std::move(re), std::move(si), std::move(ge), std::move(gt)};
}

// A dense grid over [-20, 20] (step 1/64, exact in binary), the large magnitudes, both overflow
// edges of exp (709.78) and signed zeros.
std::vector<double> test_inputs() {
    std::vector<double> inputs;
    for (int i = -20 * 64; i <= 20 * 64; ++i) inputs.push_back(i / 64.0);
    for (const double v : {30.0, 50.0, 100.0, 500.0, 700.0, 709.0, 710.0, 745.0, 1000.0, 1e-8, 1e-300}) {
        inputs.push_back(v);
        inputs.push_back(-v);
    }
    inputs.push_back(-0.0);
    return inputs;
}

// |value - expected| <= relative * |expected| + absolute * max(1, |input|), with the tolerances
// stated where each activation is checked.
struct tolerance {
    double relative;
    double absolute;
};

template <class F>
void check_against(const std::vector<double>& inputs, const tensor<double>& values, F closed_form, tolerance allowed) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const long double expected = closed_form(static_cast<long double>(inputs[i]));
        const double bound =
            allowed.relative * std::abs(static_cast<double>(expected)) + allowed.absolute * std::max(1.0, std::abs(inputs[i]));
        CAPTURE(inputs[i], values.data()[i], static_cast<double>(expected));
        CHECK(std::abs(static_cast<long double>(values.data()[i]) - expected) <= bound);
    }
}

// sigmoid and silu: exp, an add and a divide (and silu's multiply), each within 1 ulp of double:
// 1e-15 relative is ~4 ulps (2.7e-16 measured). Below 1e-300 the expected value is a subnormal
// that double's exp cannot produce (exp(-x) overflows to inf, and 1 / inf gives 0).
constexpr tolerance exp_based{1e-15, 1e-300};

// gelu forms: 1 + erf(...) or 1 + tanh(...) cancels for x < -3, losing absolute accuracy of
// ulp(1) scaled by 0.5 |x|: 1e-15 * max(1, |x|) is ~5 times the 1.9e-16 measured.
constexpr tolerance cancelling{0.0, 1e-15};

}  // namespace

TEST_CASE("square is x * x exactly", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) CHECK(y.square.data()[i] == inputs[i] * inputs[i]);
}

TEST_CASE("sigmoid equals 1 / (1 + exp(-x)), with limits 0 at -1000 and 1 at +1000", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    check_against(inputs, y.sigmoid, reference::sigmoid, exp_based);

    const activations limits = activations_of({-1000.0, 1000.0, 0.0});
    CHECK(limits.sigmoid(0, 0) == 0.0);  // exp(1000) is inf: 1 / inf is 0, not NaN
    CHECK(limits.sigmoid(1, 0) == 1.0);
    CHECK(limits.sigmoid(2, 0) == 0.5);
}

TEST_CASE("sigmoid in float (eager evaluation) reaches 0 and 1 without NaN", "[activations]") {
    // float's exp overflows already for x < -88.7: the limit must still come out as 0.
    tensor<float> in{{-1000.0f}, {-100.0f}, {-89.0f}, {1000.0f}};
    const auto [sq, sg, re, si, ge, gt] = interpret<float>(all, x = in);
    CHECK(sg(0, 0) == 0.0f);
    CHECK(sg(1, 0) == 0.0f);
    CHECK(sg(2, 0) >= 0.0f);
    CHECK(sg(2, 0) < 1e-38f);
    CHECK(sg(3, 0) == 1.0f);
    CHECK(si(0, 0) == 0.0f);
}

TEST_CASE("relu is max(x, 0): 0 at 0 and for negatives, x for positives, NaN for NaN", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CAPTURE(inputs[i]);
        CHECK(y.relu.data()[i] == (inputs[i] > 0 ? inputs[i] : 0.0));
    }
    const activations special = activations_of({0.0, -1000.0, std::numeric_limits<double>::quiet_NaN()});
    CHECK(special.relu(0, 0) == 0.0);
    CHECK(special.relu(1, 0) == 0.0);
    CHECK(std::isnan(special.relu(2, 0)));  // a NaN is not hidden as 0
}

TEST_CASE("silu equals x * sigmoid(x)", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    check_against(inputs, y.silu, reference::silu, exp_based);
    const activations limits = activations_of({-1000.0, 1000.0});
    CHECK(limits.silu(0, 0) == 0.0);
    CHECK(limits.silu(1, 0) == 1000.0);
}

TEST_CASE("gelu is the exact form 0.5 x (1 + erf(x / sqrt 2))", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    check_against(inputs, y.gelu, reference::gelu, cancelling);
}

TEST_CASE("gelu_tanh is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))", "[activations]") {
    const std::vector<double> inputs = test_inputs();
    const activations y = activations_of(inputs);
    check_against(inputs, y.gelu_tanh, reference::gelu_tanh, cancelling);
}

TEST_CASE("gelu and gelu_tanh agree within 1e-3 on [-5, 5] but are different functions", "[activations]") {
    std::vector<double> inputs;
    for (int i = -5 * 256; i <= 5 * 256; ++i) inputs.push_back(i / 256.0);
    const activations y = activations_of(inputs);
    const double difference = testing::max_abs_difference(y.gelu, y.gelu_tanh);
    // The tanh approximation's largest error is 4.7e-4 (near |x| = 2): within 1e-3, yet far from 0.
    CHECK(difference <= 1e-3);
    CHECK(difference > 1e-4);
}

TEST_CASE("every activation propagates NaN", "[activations]") {
    const activations y = activations_of({std::numeric_limits<double>::quiet_NaN()});
    CHECK(std::isnan(y.square(0, 0)));
    CHECK(std::isnan(y.sigmoid(0, 0)));
    CHECK(std::isnan(y.relu(0, 0)));
    CHECK(std::isnan(y.silu(0, 0)));
    CHECK(std::isnan(y.gelu(0, 0)));
    CHECK(std::isnan(y.gelu_tanh(0, 0)));
}
