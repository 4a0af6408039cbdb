// Kernels against the interpreter: every op, several outputs, all shapes, hard data, both precisions.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto pad = mask<"pad">;

constexpr auto ln = [](auto v) { return layer_norm(v, g, b); };
constexpr auto rms = [](auto v) { return rms_norm(v, g); };

// Tolerances, relative to 1 + |expected|. A double kernel sums in another order than the
// interpreter (16 lanes combined pairwise, per-thread partials): its statistics differ by a few
// ulps, which normalization divides by the spread of the data, so the error grows with the
// condition 1 + |mean| / std (1e6 for the hard data: measured 5e-10, bound 1e-8). A float
// kernel rounds Act values to float (2^-24 each) and holds statistics in double, so its error
// does not grow with the condition; the largest measured over these graphs, shapes and data was
// 3e-7, and 4e-6 leaves room without hiding a wrong index or axis, which are off by O(1).
template <class T>
constexpr double tolerance(double condition) {
    return std::is_same_v<T, float> ? 4e-6 : 1e-12 + 1e-14 * condition;
}

// Data of one shape: x and y Act, gamma and beta PerFeature, a padding mask (the last tokens).
template <class T>
struct batch {
    tensor<T> x, y, gamma, beta;
    std::vector<T> pad;

    batch(std::size_t tokens, std::size_t features, double mean = 0.0, double stddev = 1.0)
        : x(convert(testing::random_tensor(tokens, features, 1, mean, stddev))),
          y(convert(testing::random_tensor(tokens, features, 2))),
          gamma(convert(testing::random_tensor(1, features, 3, 1.0, 0.5))),
          beta(convert(testing::random_tensor(1, features, 4))),
          pad(tokens, T(1)) {
        for (std::size_t t = tokens - tokens / 4; t < tokens; ++t) pad[t] = 0;
        if (tokens > 0) pad[0] = 1;
    }

    static tensor<T> convert(const tensor<double>& values) { return tensor<T>::copy_of(values.view()); }
};

template <class T, class G>
void compare(G graph, std::size_t output, view<const T> fused, view<const double> expected, double condition) {
    INFO("graph: " << fmt::format("{}", graph) << "\noutput " << output);
    REQUIRE(fused.rows() == expected.rows());
    REQUIRE(fused.cols() == expected.cols());
    for (std::size_t r = 0; r < fused.rows(); ++r)
        for (std::size_t c = 0; c < fused.cols(); ++c) {
            const double e = expected(r, c);
            const double f = fused(r, c);
            if (std::isnan(e) ? std::isnan(f) : std::abs(f - e) <= tolerance<T>(condition) * (1 + std::abs(e))) continue;
            CAPTURE(r, c, f, e, fused.rows(), fused.cols());
            FAIL_CHECK("kernel differs from the interpreter");
            return;
        }
}

// Every element of the kernel's outputs against the double interpreter on the same inputs.
template <class T, class G, class... Bindings>
void check_conditioned(double condition, G graph, const Bindings&... bindings) {
    auto kernel = compile(graph);
    const auto fused = kernel(bindings...);
    const auto expected = interpret<double>(graph, bindings...);
    const auto as_tuple = [](const auto& result) {
        if constexpr (is_graph<G>) return result;
        else return std::tie(result);
    };
    std::apply(
        [&](const auto&... f) {
            std::apply(
                [&](const auto&... e) {
                    std::size_t output = 0;
                    (compare<T>(graph, output++, f.view(), e.view(), condition), ...);
                },
                as_tuple(expected));
        },
        as_tuple(fused));
}

template <class T, class G, class... Bindings>
void check(G graph, const Bindings&... bindings) {
    check_conditioned<T>(1.0, graph, bindings...);
}

// Shapes: no token, one feature, odd widths, widths below, at and around the tile width of 16,
// a full width row of 8192 features.
constexpr std::pair<std::size_t, std::size_t> shapes[] = {{0, 5},  {1, 1},   {3, 17}, {5, 16}, {7, 15},
                                                          {9, 33}, {64, 100}, {33, 1024}, {2, 8192}};

template <class T>
void check_norms(std::size_t tokens, std::size_t features, double mean = 0.0, double stddev = 1.0) {
    CAPTURE(tokens, features, mean, stddev);
    const batch<T> d(tokens, features, mean, stddev);
    const double condition = 1 + std::abs(mean) / stddev;
    check_conditioned<T>(condition, layer_norm(x, g, b), x = d.x, g = d.gamma, b = d.beta);
    check_conditioned<T>(condition, rms_norm(x, g), x = d.x, g = d.gamma);
    if (tokens == 0) return;  // BatchNorm of no token is 0 / 0: NaN in both, checked below
    check_conditioned<T>(condition, batch_norm(x, g, b), x = d.x, g = d.gamma, b = d.beta);
    check_conditioned<T>(condition, batch_norm_masked(x, pad, g, b), x = d.x, pad = d.pad, g = d.gamma, b = d.beta);
}

template <class T>
void check_blocks(std::size_t tokens, std::size_t features) {
    CAPTURE(tokens, features);
    const batch<T> d(tokens, features);
    check<T>(pre_norm(x, ln, [](auto h) { return gelu(h); }), x = d.x, g = d.gamma, b = d.beta);
    check<T>(post_norm(x, ln, [](auto h) { return gelu_tanh(h); }), x = d.x, g = d.gamma, b = d.beta);
    check<T>(pre_norm(x, rms, [](auto h) { return silu(h); }), x = d.x, g = d.gamma);
    check<T>(post_norm(x, rms, [](auto h) { return relu(h) + sigmoid(h); }), x = d.x, g = d.gamma);
}

}  // namespace

TEST_CASE("norm kernels equal the interpreter on every shape, in double and in float", "[kernel]") {
    for (const auto& [tokens, features] : shapes) {
        check_norms<double>(tokens, features);
        check_norms<float>(tokens, features);
    }
}

TEST_CASE("pre-norm and post-norm block kernels equal the interpreter", "[kernel]") {
    for (const auto& [tokens, features] : shapes) {
        check_blocks<double>(tokens, features);
        check_blocks<float>(tokens, features);
    }
}

TEST_CASE("hard data, mean 1e4 and std 1e-2, keeps float kernels exact to float precision", "[kernel][hard]") {
    // The statistics are held in double, so x - mean is exact before its rounding to float;
    // the float eager evaluation of the same LayerNorm is off by 20% here.
    for (const std::size_t features : {3u, 100u, 1024u}) {
        check_norms<double>(17, features, 1e4, 1e-2);
        check_norms<float>(17, features, 1e4, 1e-2);
    }
}

TEST_CASE("the pre-norm residual stream and its LayerNorm come from one kernel", "[kernel]") {
    constexpr auto stream = x + y;
    for (const auto& [tokens, features] : shapes) {
        CAPTURE(tokens, features);
        const batch<float> d(tokens, features);
        check<float>(outputs(stream, layer_norm(stream, g, b)), x = d.x, y = d.y, g = d.gamma, b = d.beta);
    }
}

TEST_CASE("a training forward writes the output and the per-token mean and rstd", "[kernel]") {
    constexpr auto mean = mean_f(x);
    constexpr auto rstd = rsqrt(mean_f(square(x - mean)) + constant<1e-5>);
    const batch<float> d(37, 45);
    check<float>(outputs(layer_norm(x, g, b), mean, rstd), x = d.x, g = d.gamma, b = d.beta);
    const auto [out, means, rstds] = compile(layer_norm(x, g, b), mean, rstd)(x = d.x, g = d.gamma, b = d.beta);
    CHECK(means.rows() == 37);
    CHECK(means.cols() == 1);
    CHECK(rstds.rows() == 37);
}

TEST_CASE("outputs of every kind: Act, PerToken, PerFeature and Scalar", "[kernel]") {
    const batch<double> d(23, 19);
    check<double>(outputs(x * g, mean_f(x), sum_t(x * y), sum_t(pad), mean_t(x, pad) * b, sum_f(g)), x = d.x, y = d.y,
                  g = d.gamma, b = d.beta, pad = d.pad);
    check<double>(outputs(x, g, pad, scalar<"s">), x = d.x, g = d.gamma, pad = d.pad, scalar<"s"> = 2.5);
}

TEST_CASE("every elementwise primitive in a kernel equals the interpreter", "[kernel]") {
    const batch<double> d(11, 21);
    constexpr auto a = x * constant<0.5>;
    check<double>(outputs(a + y, a - y, a * y, a / (constant<1.0> + y * y), -a, max(a, y), greater(a, y)), x = d.x, y = d.y);
    check<double>(outputs(exp(a), log(constant<1.0> + a * a), sqrt(a * a), rsqrt(constant<1.0> + a * a), tanh(a), erf(a),
                          select(greater(a, y), a, y)),
                  x = d.x, y = d.y);
}

TEST_CASE("exp near overflow gives what the float interpreter gives, inf included", "[kernel][hard]") {
    // Both evaluate std::exp on the same float values: they agree exactly, inf where it overflows.
    const tensor<float> values{{88.0f, 88.5f, 88.7f, 88.8f, 89.0f, -104.0f, 200.0f}};
    const auto fused = compile(exp(x))(x = values);
    const auto eager = interpret<float>(exp(x), x = values);
    for (std::size_t c = 0; c < values.cols(); ++c) {
        CAPTURE(values(0, c));
        CHECK(fused(0, c) == eager(0, c));
    }
    CHECK(std::isinf(fused(0, 6)));
    CHECK(std::isfinite(fused(0, 0)));
}

TEST_CASE("BatchNorm of no token is NaN, as the interpreter's", "[kernel]") {
    const batch<double> d(0, 4);
    const auto stats = compile(mean_t(x))(x = d.x);
    CHECK(std::isnan(stats(0, 0)));
}
