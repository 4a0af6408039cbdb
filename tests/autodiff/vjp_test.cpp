// vjp: the training pair saves the non-Act statistics its backward needs and recomputes the rest;
// its forward equals compile(out), its backward the derived gradient.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using etna::testing::random_tensor;

namespace {

constexpr auto x = input<"x">;
constexpr auto h = input<"h">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto m = mask<"m">;
constexpr auto dy = input<"dy">;

template <class Pair>
constexpr auto backward_plan = fuse::plan_of<typename Pair::backward_graph>;
template <class Pair>
constexpr auto forward_plan = fuse::plan_of<typename Pair::forward_graph>;

// The largest |a - r| over the elements, relative to the largest |r| (at least 1).
template <class A>
double relative_error(view<A> a, view<const double> r) {
    REQUIRE(a.rows() == r.rows());
    REQUIRE(a.cols() == r.cols());
    double error = 0;
    double size = 1;
    for (std::size_t i = 0; i < r.rows(); ++i)
        for (std::size_t j = 0; j < r.cols(); ++j) {
            error = std::max(error, std::abs(static_cast<double>(a(i, j)) - r(i, j)));
            size = std::max(size, std::abs(r(i, j)));
        }
    return error / size;
}

template <class T>
bool bitwise_equal(const tensor<T>& a, const tensor<T>& c) {
    return a.rows() == c.rows() && a.cols() == c.cols() && std::equal(a.data(), a.data() + a.size(), c.data());
}

template <class T>
tensor<T> as(const tensor<double>& t) {
    return tensor<T>::copy_of(t.view());
}

// The pair of `out` against compile(out) (bitwise) and the double interpreter of the derived
// gradient (within `tolerance` relative to the gradient's size), on data of element type T.
// The interpreter runs on the data rounded to T, so that only the kernels' arithmetic differs.
template <class T, class Out, class Wrt, class... Bindings>
void check_pair(Out out, Wrt leaves, double tolerance, const tensor<T>& seed, const Bindings&... bindings) {
    auto pair = vjp(out, leaves);
    const auto forward = pair.forward(bindings...);
    CHECK(bitwise_equal(forward, compile(out)(bindings...)));
    const auto gradients = pair.backward(bindings..., dy = seed);

    constexpr auto derived = grad(out, leaves);
    interpreter<double, std::remove_cv_t<decltype(derived)>> reference;
    const tensor<double> wide_seed = tensor<double>::copy_of(seed.view());
    const auto widened = std::tuple{tensor<double>::copy_of(bindings.values())...};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        with_bindings_of<std::remove_cv_t<decltype(derived)>>([&](const auto&... own) { reference.run(own...); },
                                                              binding<typename Bindings::leaf_type, double>(std::get<I>(widened).view())...,
                                                              dy = wide_seed);
    }(std::index_sequence_for<Bindings...>{});
    [&]<std::size_t... O>(std::index_sequence<O...>) {
        const auto check_output = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            INFO("gradient " << I);
            CHECK(relative_error(std::get<I>(gradients).view(), reference.template output<I>()) <= tolerance);
        };
        (check_output(std::integral_constant<std::size_t, O>{}), ...);
    }(std::make_index_sequence<std::tuple_size_v<decltype(gradients)>>{});
}

struct data {
    tensor<double> X = random_tensor(37, 33, 1);
    tensor<double> G = random_tensor(1, 33, 2, 1.0, 0.5);
    tensor<double> B = random_tensor(1, 33, 3);
    tensor<double> DY = random_tensor(37, 33, 4);
    tensor<double> M = [] {
        tensor<double> t(37, 1);
        for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = i % 5 == 2 ? 0.0 : 1.0;
        return t;
    }();
};

}  // namespace

TEST_CASE("the LayerNorm pair saves the row mean and rstd, and its backward reads them in one loop", "[vjp][plan]") {
    using pair = decltype(vjp(layer_norm(x, g, b), wrt(x, g, b)));
    STATIC_REQUIRE(pair::saved_count == 2);
    STATIC_REQUIRE(std::is_same_v<pair::saved_node<0>, std::remove_cv_t<decltype(mean_f(x))>>);
    STATIC_REQUIRE(std::is_same_v<kind_of<pair::saved_node<1>>, PerToken>);
    STATIC_REQUIRE(std::is_same_v<pair::saved_leaf<1>, std::remove_cv_t<decltype(statistic<"saved1", PerToken>)>>);
    // The forward is LayerNorm's nest, writing the statistics besides y.
    STATIC_REQUIRE(forward_plan<pair>.loop_nests() == 1);
    STATIC_REQUIRE(forward_plan<pair>.loops[0] == 3);
    // The backward no longer recomputes the mean and variance: one reduction loop, one write.
    STATIC_REQUIRE(backward_plan<pair>.loop_nests() == 1);
    STATIC_REQUIRE(backward_plan<pair>.loops[0] == 2);

    const std::string text = explain(pair{});
    INFO(text);
    CHECK(text.find("saved0 (PerToken) = mean_f(x)") != std::string::npos);
    CHECK(text.find("forward (out1 = saved0, out2 = saved1)") != std::string::npos);
    CHECK(text.find("backward kernel: out0 (Act), out1 (PerFeature), out2 (PerFeature); 1 loop nest over tokens, 2 loops") !=
          std::string::npos);
    // The statistics are doubles in the backward's traffic: 3 rows (x, dy, dx) and two of them.
    CHECK(text.find("memory per token: 12D + 16 bytes in float") != std::string::npos);
}

TEST_CASE("RMSNorm saves one statistic; blocks save their norm's; BatchNorm saves per-feature ones", "[vjp][plan]") {
    using rms = decltype(vjp(rms_norm(x, g), wrt(x, g)));
    STATIC_REQUIRE(rms::saved_count == 1);
    STATIC_REQUIRE(backward_plan<rms>.loops[0] == 2);

    constexpr auto norm = [](auto v) { return layer_norm(v, g, b); };
    using pre = decltype(vjp(pre_norm(h, norm, [](auto v) { return gelu(v); }), wrt(h, g, b)));
    STATIC_REQUIRE(pre::saved_count == 2);
    STATIC_REQUIRE(backward_plan<pre>.loop_nests() == 1);
    STATIC_REQUIRE(backward_plan<pre>.loops[0] == 2);  // grad alone: 4 (mean, variance, sums, write)

    using masked = decltype(vjp(batch_norm_masked(x, m, g, b), wrt(x, g, b)));
    STATIC_REQUIRE(std::is_same_v<kind_of<masked::saved_node<0>>, Scalar>);      // the token count
    STATIC_REQUIRE(std::is_same_v<kind_of<masked::saved_node<1>>, PerFeature>);  // the mean over tokens
    // grad alone plans 3 nests: the mean (with dbeta), the variance (with the sum for dgamma), the
    // write; the saved mean and rstd remove one. d var / d mean, a masked sum over the tokens of
    // x - mean, is 0 (autodiff/simplify.hpp) and takes no nest of its own: one more otherwise.
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(grad(batch_norm_masked(x, m, g, b), wrt(x, g, b)))>>.loop_nests() == 3);
    STATIC_REQUIRE(backward_plan<masked>.loop_nests() == 2);
}

TEST_CASE("pairs equal compile(out) and the derived gradient, in double and float", "[vjp]") {
    const data d;
    constexpr auto norm = [](auto v) { return layer_norm(v, g, b); };
    constexpr auto sublayer = [](auto v) { return gelu(v); };
    SECTION("double") {
        check_pair<double>(layer_norm(x, g, b), wrt(x, g, b), 1e-12, d.DY, x = d.X, g = d.G, b = d.B);
        check_pair<double>(rms_norm(x, g), wrt(x, g), 1e-12, d.DY, x = d.X, g = d.G);
        check_pair<double>(pre_norm(h, norm, sublayer), wrt(h, g, b), 1e-12, d.DY, h = d.X, g = d.G, b = d.B);
        check_pair<double>(post_norm(h, norm, sublayer), wrt(h, g, b), 1e-12, d.DY, h = d.X, g = d.G, b = d.B);
        check_pair<double>(batch_norm_masked(x, m, g, b), wrt(x, g, b), 1e-12, d.DY, x = d.X, m = d.M, g = d.G, b = d.B);
    }
    SECTION("float") {
        const auto X = as<float>(d.X), G = as<float>(d.G), B = as<float>(d.B), DY = as<float>(d.DY), M = as<float>(d.M);
        check_pair<float>(layer_norm(x, g, b), wrt(x, g, b), 1e-5, DY, x = X, g = G, b = B);
        check_pair<float>(rms_norm(x, g), wrt(x, g), 1e-5, DY, x = X, g = G);
        check_pair<float>(pre_norm(h, norm, sublayer), wrt(h, g, b), 1e-5, DY, h = X, g = G, b = B);
        check_pair<float>(post_norm(h, norm, sublayer), wrt(h, g, b), 1e-5, DY, h = X, g = G, b = B);
        check_pair<float>(batch_norm_masked(x, m, g, b), wrt(x, g, b), 1e-5, DY, x = X, m = M, g = G, b = B);
    }
    SECTION("float data of mean 1e4 and std 1e-2: the statistics are saved in double") {
        const auto X = as<float>(random_tensor(37, 33, 5, 1e4, 1e-2));
        const auto G = as<float>(d.G), B = as<float>(d.B), DY = as<float>(d.DY);
        check_pair<float>(layer_norm(x, g, b), wrt(x, g, b), 1e-5, DY, x = X, g = G, b = B);
    }
}

TEST_CASE("the pair writes into the caller's buffers and keeps its statistics between calls", "[vjp]") {
    const data d;
    auto pair = vjp(layer_norm(x, g, b), wrt(x, g, b));
    tensor<double> Y(37, 33), DX(37, 33), DG(1, 33), DB(1, 33);
    pair.forward(into(Y), x = d.X, g = d.G, b = d.B);
    pair.backward(into(DX, DG, DB), x = d.X, g = d.G, b = d.B, dy = d.DY);
    const auto [kx, kg, kb] = compile(grad(layer_norm(x, g, b), wrt(x, g, b)))(x = d.X, g = d.G, dy = d.DY);
    CHECK(relative_error(DX.view(), kx.view()) <= 1e-13);
    CHECK(relative_error(DG.view(), kg.view()) <= 1e-13);
    CHECK(relative_error(DB.view(), kb.view()) <= 1e-13);
    // The statistics: the row means and rstds of x.
    const auto means = interpret<double>(mean_f(x), x = d.X);
    CHECK(relative_error(pair.saved<0>(), means.view()) <= 1e-15);
    // The backward reads only what it needs: b may be left out (it shifts y only).
    const auto [dx, dg, db] = pair.backward(x = d.X, g = d.G, dy = d.DY);
    CHECK(bitwise_equal(dx, tensor<double>::copy_of(DX.view())));
}

TEST_CASE("a pair refuses a backward without its forward, or on other data", "[vjp]") {
    const data d;
    auto pair = vjp(layer_norm(x, g, b), wrt(x, g, b));
    CHECK_THROWS_WITH(pair.backward(x = d.X, g = d.G, dy = d.DY), Catch::Contains("call forward first"));
    pair.forward(x = d.X, g = d.G, b = d.B);
    const tensor<double> other = d.X;
    CHECK_THROWS_WITH(pair.backward(x = other, g = d.G, dy = d.DY),
                      Catch::Contains("backward reads leaf 'x', which is bound to other data than in the last forward"));
    // A leaf the backward does not read may change: b only shifted y.
    const tensor<double> other_b = d.B;
    CHECK_NOTHROW(pair.backward(x = d.X, g = d.G, b = other_b, dy = d.DY));
    // A forward that fails (here a shape error) leaves no statistics to misuse.
    const tensor<double> narrow(1, 5, 1.0);
    CHECK_THROWS(pair.forward(x = d.X, g = narrow, b = d.B));
    CHECK_THROWS_WITH(pair.backward(x = d.X, g = d.G, dy = d.DY), Catch::Contains("call forward first"));
}

TEST_CASE("a scalar loss is seeded by 1, and a pair with nothing worth saving saves nothing", "[vjp]") {
    const data d;
    constexpr auto loss = sum_t(sum_f(square(layer_norm(x, g, b))));
    auto pair = vjp(loss, wrt(x, g));
    const auto value = pair.forward(x = d.X, g = d.G, b = d.B);
    CHECK(value(0, 0) == Approx(interpret<double>(loss, x = d.X, g = d.G, b = d.B)(0, 0)).epsilon(1e-14));
    const auto [dx, dg] = pair.backward(x = d.X, g = d.G, b = d.B);
    const auto [rx, rg] = interpret<double>(grad(loss, wrt(x, g)), x = d.X, g = d.G, b = d.B);
    CHECK(relative_error(dx.view(), rx.view()) <= 1e-12);
    CHECK(relative_error(dg.view(), rg.view()) <= 1e-12);

    using pointwise = decltype(vjp(gelu(x) * g, wrt(x, g)));
    STATIC_REQUIRE(pointwise::saved_count == 0);
}

TEST_CASE("kernels read statistic leaves and write statistics in double, whatever their element type", "[vjp]") {
    constexpr auto mu = statistic<"mu", PerToken>;
    const tensor<float> X{{1e4f, 1e4f + 1e-2f}, {2.0f, 3.0f}};
    // The mean of row 0 is not a float: a float output rounds it, a double one does not.
    const auto row_mean = mean_f(x);
    tensor<double> wide(2, 1);
    compile(row_mean)(into(wide), x = X);
    const double exact = (1e4 + static_cast<double>(1e4f + 1e-2f)) / 2;
    CHECK(wide(0, 0) == exact);
    CHECK(compile(row_mean)(x = X)(0, 0) == static_cast<float>(exact));
    // x - mu with mu in double: computed in double, rounded once.
    const tensor<double> MU{{exact}, {2.5}};
    const auto centred = compile(x - mu)(x = X, mu = MU);
    CHECK(centred(0, 0) == static_cast<float>(static_cast<double>(1e4f) - exact));
    CHECK(centred(1, 1) == 0.5f);
}
