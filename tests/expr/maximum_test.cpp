// max_f and max_t: values, NaN and empty axes, ties in the adjoint, kernels against the
// interpreter, finite differences, and how each stage prints them.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto w = input<"w", PerToken>;
constexpr auto v = param<"v">;
constexpr auto maxima = outputs(max_f(x), max_t(x));
constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("max_f and max_t: per token over features, per feature over tokens", "[maximum]") {
    const tensor<double> X{{1, -5, 3}, {-2, -1, -7}};
    const auto [per_token, per_feature] = interpret<double>(maxima, x = X);
    CHECK(per_token(0, 0) == 3);
    CHECK(per_token(1, 0) == -1);
    CHECK(per_feature(0, 0) == 1);
    CHECK(per_feature(0, 1) == -1);
    CHECK(per_feature(0, 2) == 3);
    CHECK(std::is_same_v<kind_of<decltype(max_f(x))>, PerToken>);
    CHECK(std::is_same_v<kind_of<decltype(max_t(x))>, PerFeature>);
}

TEST_CASE("max_f and max_t: a NaN wins, and the maximum over no element is -inf", "[maximum]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const tensor<double> X{{1, nan, 3}, {2, 0, -1}};
    auto kernel = compile(maxima);
    const auto [per_token, per_feature] = kernel(x = X);
    CHECK(std::isnan(per_token(0, 0)));
    CHECK(per_token(1, 0) == 2);
    CHECK(std::isnan(per_feature(0, 1)));
    CHECK(per_feature(0, 0) == 2);

    const tensor<double> none(0, 3);
    const auto [no_tokens, over_none] = kernel(x = none);
    CHECK(no_tokens.rows() == 0);
    for (std::size_t j = 0; j < 3; ++j) CHECK(over_none(0, j) == -inf);
}

TEST_CASE("max_f and max_t: float and double kernels equal the interpreter at every thread count", "[maximum]") {
    // Shapes across the kernel's tiles of 16 features, tokens split over threads, mean 1e4.
    for (const auto& [tokens, features] : {std::pair{1, 1}, std::pair{7, 16}, std::pair{33, 17}, std::pair{130, 50}}) {
        const auto X = testing::random_tensor<double>(tokens, features, 7, 1e4, 1e-2);
        const auto [token_max, feature_max] = interpret<double>(maxima, x = X);
        const tensor<float> Xf = tensor<float>::copy_of(X.view());
        for (const int threads : {1, 2, 3}) {
            auto kernel = compile(maxima);
            kernel.set_threads(threads);
            const auto [a, b] = kernel(x = X);
            const auto [af, bf] = kernel(x = Xf);
            for (int t = 0; t < tokens; ++t) {
                CHECK(a(t, 0) == token_max(t, 0));  // a maximum is one of the elements: exact
                CHECK(af(t, 0) == static_cast<float>(token_max(t, 0)));
            }
            for (int j = 0; j < features; ++j) {
                CHECK(b(0, j) == feature_max(0, j));
                CHECK(bf(0, j) == static_cast<float>(feature_max(0, j)));
            }
        }
    }
}

TEST_CASE("max_f and max_t: the adjoint goes to the maximum, split evenly among ties", "[maximum]") {
    const tensor<double> X{{4, 1, 4, 4}, {0, 2, -3, 1}};
    const std::vector<double> W{6, 5};
    const auto [dx] = interpret<double>(grad(sum_t(max_f(x) * w), wrt(x)), x = X, w = W);
    // Row 0: three maxima share the seed 6; row 1: one maximum takes 5.
    CHECK(dx(0, 0) == 2);
    CHECK(dx(0, 1) == 0);
    CHECK(dx(0, 2) == 2);
    CHECK(dx(0, 3) == 2);
    CHECK(dx(1, 1) == 5);
    CHECK(dx(1, 0) + dx(1, 2) + dx(1, 3) == 0);

    const tensor<double> Y{{1, 7}, {3, 7}, {3, -1}};
    const std::vector<double> V{10, 4};
    const auto [dy] = interpret<double>(grad(sum_f(max_t(x) * v), wrt(x)), x = Y, v = V);
    CHECK(dy(1, 0) == 5);  // tokens 1 and 2 tie for feature 0
    CHECK(dy(2, 0) == 5);
    CHECK(dy(0, 0) == 0);
    CHECK(dy(0, 1) == 2);  // tokens 0 and 1 tie for feature 1
    CHECK(dy(1, 1) == 2);
    CHECK(dy(2, 1) == 0);

    // The derived backward, fused, in float: the same routing.
    auto backward = compile(grad(sum_t(max_f(x) * w), wrt(x)));
    const tensor<float> Xf = tensor<float>::copy_of(X.view());
    const std::vector<float> Wf{6, 5};
    const auto [dxf] = backward(x = Xf, w = Wf);
    CHECK(dxf(0, 0) == 2);
    CHECK(dxf(0, 1) == 0);
    CHECK(dxf(1, 1) == 5);
}

TEST_CASE("max_f and max_t: gradients pass finite differences away from ties", "[maximum]") {
    const auto X = testing::random_tensor<double>(9, 13, 3);
    const auto W = testing::random_tensor<double>(9, 1, 4);
    const auto V = testing::random_tensor<double>(1, 13, 5);
    const std::vector<double> w_values(W.data(), W.data() + W.size());
    const std::vector<double> v_values(V.data(), V.data() + V.size());
    CHECK(check_gradient(max_f(x * x) * w + x, wrt(x, w), x = X, w = w_values).passed);
    CHECK(check_gradient(max_t(exp(x)) * v, wrt(x, v), x = X, v = v_values).passed);
    CHECK(check_gradient(outputs(max_f(x), max_t(x)), wrt(x), x = X).passed);
}

TEST_CASE("max_f and max_t: formula, DOT and explain name them", "[maximum]") {
    CHECK(fmt::format("{}", max_f(x) + sum_f(x)) == "max_f(x) + sum_f(x)");
    CHECK(fmt::format("{}", max_t(x * v)) == "max_t(x * v)");
    const std::string dot = to_dot(max_t(x));
    CHECK(dot.find("label=\"max_t\", shape=invtriangle") != std::string::npos);
    const std::string plan = explain(compile(maxima));
    CHECK(plan.find("= max(v1, x[t,j])") != std::string::npos);
    CHECK(plan.find("max over threads, in order") != std::string::npos);
}
