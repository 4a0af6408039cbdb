// Residual, pre-norm and post-norm blocks equal their hand compositions, with LayerNorm and RMSNorm.
#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

#include "reference_norms.hpp"

using namespace etna;
using testing::max_abs_difference;
namespace reference = testing::activation;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

// The norms and sublayers, as callables taking an expression (no captures: g, b are constants).
constexpr auto by_layer_norm = [](auto v) { return layer_norm(v, g, b); };
constexpr auto by_rms_norm = [](auto v) { return rms_norm(v, g); };
constexpr auto with_gelu = [](auto v) { return gelu(v); };
constexpr auto with_relu = [](auto v) { return relu(v); };
constexpr auto with_silu = [](auto v) { return silu(v); };

// One graph per block kind, each with several outputs, so that few interpreter types are compiled.
constexpr auto residuals = outputs(residual(x, with_gelu), residual(x, with_relu), residual(x, with_silu));
constexpr auto pre_norms = outputs(pre_norm(x, by_layer_norm, with_gelu), pre_norm(x, by_rms_norm, with_relu),
                                   pre_norm(x, by_layer_norm, with_silu), pre_norm(x, by_rms_norm, with_gelu));
constexpr auto post_norms = outputs(post_norm(x, by_layer_norm, with_gelu), post_norm(x, by_rms_norm, with_relu),
                                    post_norm(x, by_layer_norm, with_silu), post_norm(x, by_rms_norm, with_silu));

// Values are O(1) to O(10) and pass through a norm (~1e-15 of rounding, see norms_test), an
// activation and an add; post-norm's norm divides the sum's rounding by a row std of ~1.5.
// 1.8e-15 measured; 1e-13 leaves ~50x, and a wrongly composed block (norm and sublayer swapped,
// norm left out, residual missing) is off by 0.1 or more.
constexpr double tolerance = 1e-13;

using reference_map = std::function<tensor<double>(const tensor<double>&)>;

// A batch with odd width, mean 0.5 (so that RMSNorm and LayerNorm differ), and its parameters.
struct batch {
    tensor<double> tokens = testing::random_tensor<double>(9, 33, 51, 0.5, 1.5);
    std::vector<double> gamma = testing::random_vector(33, 52, 1.0, 0.5);
    std::vector<double> beta = testing::random_vector(33, 53, 0.0, 1.0);

    // The norms and sublayers by plain loops (tests/ops/reference_norms.hpp).
    reference_map layer_norm() const {
        return [this](const tensor<double>& t) { return testing::layer_norm_reference(t, gamma, beta); };
    }
    reference_map rms_norm() const {
        return [this](const tensor<double>& t) { return testing::rms_norm_reference(t, gamma); };
    }
};

template <class F>
reference_map elementwise_reference(F f) {
    return [f](const tensor<double>& t) { return testing::map_reference(t, f); };
}
const reference_map gelu_reference = elementwise_reference(reference::gelu);
const reference_map relu_reference = elementwise_reference(reference::relu);
const reference_map silu_reference = elementwise_reference(reference::silu);

// The blocks' definitions, composed by hand from the references.
tensor<double> residual_reference(const tensor<double>& v, const reference_map& sublayer) {
    return testing::sum_reference(v, sublayer(v));
}
tensor<double> pre_norm_reference(const tensor<double>& v, const reference_map& norm, const reference_map& sublayer) {
    return testing::sum_reference(v, sublayer(norm(v)));
}
tensor<double> post_norm_reference(const tensor<double>& v, const reference_map& norm, const reference_map& sublayer) {
    return norm(residual_reference(v, sublayer));
}

}  // namespace

TEST_CASE("blocks are Act-valued constexpr graphs", "[blocks]") {
    constexpr auto block = pre_norm(x, by_layer_norm, with_gelu);
    STATIC_REQUIRE(std::is_same_v<kind_of<decltype(block)>, Act>);
    STATIC_REQUIRE(std::is_same_v<kind_of<decltype(post_norm(x, by_rms_norm, with_relu))>, Act>);
    STATIC_REQUIRE(std::is_same_v<kind_of<decltype(residual(x, with_silu))>, Act>);

    // The constexpr block evaluates like any graph.
    const batch data;
    const tensor<double> y = interpret<double>(block, x = data.tokens, g = data.gamma, b = data.beta);
    CHECK(max_abs_difference(y, pre_norm_reference(data.tokens, data.layer_norm(), gelu_reference)) <= tolerance);
}

TEST_CASE("blocks are the same graphs as their hand compositions", "[blocks]") {
    // Identity is type identity: a block adds no node of its own beyond the composition.
    STATIC_REQUIRE(std::is_same_v<decltype(residual(x, with_relu)), decltype(x + relu(x))>);
    STATIC_REQUIRE(std::is_same_v<decltype(pre_norm(x, by_layer_norm, with_gelu)), decltype(x + gelu(layer_norm(x, g, b)))>);
    STATIC_REQUIRE(std::is_same_v<decltype(pre_norm(x, by_rms_norm, with_silu)), decltype(x + silu(rms_norm(x, g)))>);
    STATIC_REQUIRE(std::is_same_v<decltype(post_norm(x, by_layer_norm, with_gelu)), decltype(layer_norm(x + gelu(x), g, b))>);
    STATIC_REQUIRE(std::is_same_v<decltype(post_norm(x, by_rms_norm, with_relu)), decltype(rms_norm(x + relu(x), g))>);
}

TEST_CASE("residual(x, f) equals x + f(x) for gelu, relu and silu", "[blocks]") {
    const batch data;
    const auto [by_gelu, by_relu, by_silu] = interpret<double>(residuals, x = data.tokens);
    CHECK(max_abs_difference(by_gelu, residual_reference(data.tokens, gelu_reference)) <= tolerance);
    CHECK(max_abs_difference(by_relu, residual_reference(data.tokens, relu_reference)) <= tolerance);
    CHECK(max_abs_difference(by_silu, residual_reference(data.tokens, silu_reference)) <= tolerance);
}

TEST_CASE("pre_norm(x, norm, f) equals x + f(norm(x)) with LayerNorm and RMSNorm", "[blocks]") {
    const batch data;
    const auto [ln_gelu, rms_relu, ln_silu, rms_gelu] =
        interpret<double>(pre_norms, x = data.tokens, g = data.gamma, b = data.beta);
    CHECK(max_abs_difference(ln_gelu, pre_norm_reference(data.tokens, data.layer_norm(), gelu_reference)) <= tolerance);
    CHECK(max_abs_difference(rms_relu, pre_norm_reference(data.tokens, data.rms_norm(), relu_reference)) <= tolerance);
    CHECK(max_abs_difference(ln_silu, pre_norm_reference(data.tokens, data.layer_norm(), silu_reference)) <= tolerance);
    CHECK(max_abs_difference(rms_gelu, pre_norm_reference(data.tokens, data.rms_norm(), gelu_reference)) <= tolerance);
}

TEST_CASE("post_norm(x, norm, f) equals norm(x + f(x)) with LayerNorm and RMSNorm", "[blocks]") {
    const batch data;
    const auto [ln_gelu, rms_relu, ln_silu, rms_silu] =
        interpret<double>(post_norms, x = data.tokens, g = data.gamma, b = data.beta);
    CHECK(max_abs_difference(ln_gelu, post_norm_reference(data.tokens, data.layer_norm(), gelu_reference)) <= tolerance);
    CHECK(max_abs_difference(rms_relu, post_norm_reference(data.tokens, data.rms_norm(), relu_reference)) <= tolerance);
    CHECK(max_abs_difference(ln_silu, post_norm_reference(data.tokens, data.layer_norm(), silu_reference)) <= tolerance);
    CHECK(max_abs_difference(rms_silu, post_norm_reference(data.tokens, data.rms_norm(), silu_reference)) <= tolerance);
}
