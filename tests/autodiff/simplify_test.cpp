// The simplifier's rules, and the derived graphs they keep small.
#include <type_traits>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/deep_chain.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto p = input<"p", PerToken>;
constexpr auto g = param<"g">;

template <class A, class B>
constexpr bool same(A, B) {
    return std::is_same_v<std::remove_cv_t<A>, std::remove_cv_t<B>>;
}

}  // namespace

TEST_CASE("the simplifier folds identities and constants", "[simplify]") {
    using namespace simplify;
    STATIC_REQUIRE(same(add(constant<0.0>, x), x));
    STATIC_REQUIRE(same(add(x, constant<0.0>), x));
    STATIC_REQUIRE(same(sub(x, constant<0.0>), x));
    STATIC_REQUIRE(same(sub(constant<0.0>, x), -x));
    STATIC_REQUIRE(same(mul(x, constant<1.0>), x));
    STATIC_REQUIRE(same(mul(constant<1.0>, x), x));
    STATIC_REQUIRE(same(mul(x, constant<0.0>), constant<0.0>));
    STATIC_REQUIRE(same(mul(constant<-1.0>, x), -x));
    STATIC_REQUIRE(same(div(x, constant<1.0>), x));
    STATIC_REQUIRE(same(div(constant<0.0>, x), constant<0.0>));
    STATIC_REQUIRE(same(neg(neg(x)), x));
    STATIC_REQUIRE(same(neg(constant<2.0>), constant<-2.0>));
    STATIC_REQUIRE(same(add(x, neg(y)), x - y));
    STATIC_REQUIRE(same(sub(x, neg(y)), x + y));
    STATIC_REQUIRE(same(add(x, x), constant<2.0> * x));
    STATIC_REQUIRE(same(mul(constant<2.0>, constant<3.0>), constant<6.0>));
    STATIC_REQUIRE(same(sub(constant<2.0>, constant<3.0>), constant<-1.0>));
    STATIC_REQUIRE(same(simplify::select(etna::greater(x, y), constant<0.0>, constant<0.0>), constant<0.0>));
}

TEST_CASE("sums are linear: they split over + and -, and factors constant along the axis move out", "[simplify]") {
    using namespace simplify;
    constexpr auto D = feature_count<>{};
    STATIC_REQUIRE(same(sum<axis::features, "d">(x + y), sum_f(x) + sum_f(y)));
    STATIC_REQUIRE(same(sum<axis::features, "d">(x - y), sum_f(x) - sum_f(y)));
    STATIC_REQUIRE(same(sum<axis::features, "d">(-x), -sum_f(x)));
    STATIC_REQUIRE(same(sum<axis::features, "d">(p * x), sum_f(x) * p));
    STATIC_REQUIRE(same(sum<axis::features, "d">(x * p * y), sum_f(x * y) * p));
    STATIC_REQUIRE(same(sum<axis::features, "d">(x / p), sum_f(x) / p));
    STATIC_REQUIRE(same(sum<axis::features, "d">(p), p * D));
    STATIC_REQUIRE(same(sum<axis::features, "d">(x * y), sum_f(x * y)));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(g * x), sum_t(x) * g));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(x * y), sum_t(x * y)));
}

TEST_CASE("a sum minus the same sum is 0, whether written whole or split", "[simplify]") {
    using namespace simplify;
    constexpr auto h = x + p * x * y;  // a post-norm residual's shape: x + x * f(x)
    constexpr auto split = sum<axis::features, "d">(h);
    STATIC_REQUIRE(same(split, sum_f(x) + sum_f(x * y) * p));
    STATIC_REQUIRE(same(sub(split, sum_f(h)), constant<0.0>));
    STATIC_REQUIRE(same(sub(sum_f(h), split), constant<0.0>));
    STATIC_REQUIRE(same(sub(sum<axis::tokens, "d">(g * x), sum_t(g * x)), constant<0.0>));
    STATIC_REQUIRE(same(sub(split, sum_f(x + x * y)), split - sum_f(x + x * y)));  // another sum stays
}

TEST_CASE("a masked sum is linear in what it selects, and the masked sum of x minus its masked mean is 0", "[simplify]") {
    using namespace simplify;
    constexpr auto m = mask<"m">;
    constexpr auto zero = constant<0.0>;
    constexpr auto masked_mean = mean_t(x, m);  // sum_t(select(m, x, 0)) / sum_t(m)
    constexpr auto selected = [](auto c, auto a) { return simplify::select(c, a, constant<0.0>); };  // PerToken c, PerFeature a allowed
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, x + y)), sum_t(selected(m, x)) + sum_t(selected(m, y))));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, x - y)), sum_t(selected(m, x)) - sum_t(selected(m, y))));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, g * x)), sum_t(selected(m, x)) * g));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, g) * x), sum_t(selected(m, x)) * g));
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, g)), g * sum_t(m)));  // a mask holds 0 and 1
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, x - masked_mean)), zero));
    // The shape the masked BatchNorm backward has: d var / d mean is a masked sum of x - mean.
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(m, g) * (x - masked_mean)), zero));
    // A PerToken input used as the condition may hold other values than 0 and 1: the tokens it
    // selects are not counted by its sum, and nothing cancels.
    STATIC_REQUIRE(same(sum<axis::tokens, "d">(selected(p, g)), g * sum_t(selected(p, constant<1.0>))));
    STATIC_REQUIRE(!same(sum<axis::tokens, "d">(selected(p, x - mean_t(x, p))), zero));
}

TEST_CASE("the derived post-norm backward does not recompute the sum the forward's mean is", "[simplify][grad]") {
    constexpr auto b = param<"b">;
    const std::string text = fmt::format("{}", grad(layer_norm(x + gelu(x), g, b), wrt(x)));
    INFO(text);
    // d var / d mean = -2 sum_f(h - mean) / D is 0: only the sums of dy g and dy g (h - mean) remain.
    CHECK(text.find("sum_f(x)") == std::string::npos);
}

TEST_CASE("derived gradients are printed let-bound and have no trivial nodes", "[simplify][grad]") {
    constexpr auto b = param<"b">;
    const std::string text = fmt::format("{}", grad(layer_norm(x, g, b), wrt(x, g, b)));
    INFO(text);
    CHECK(text.find("let v1 = ") != std::string::npos);
    CHECK(text.find("* 1)") == std::string::npos);
    CHECK(text.find("0 +") == std::string::npos);
    CHECK(text.find("--") == std::string::npos);
    CHECK(text.find("-(-") == std::string::npos);
    // dbeta is the sum of the seed over tokens, nothing more.
    CHECK(text.find(", sum_t(dy))") != std::string::npos);
}

TEST_CASE("the gradient of a 24-deep chain of shared sub-expressions is derived once per node", "[grad]") {
    // 2^24 paths from the output to x: a tree walk would not finish. Each level's adjoint is one
    // class template instantiation.
    constexpr auto chain = etna::testing::deep_chain<24>(x);
    constexpr auto dchain = grad(chain, wrt(x));
    STATIC_REQUIRE(node_count<std::remove_cv_t<decltype(dchain)>> < 10 * node_count<std::remove_cv_t<decltype(chain)>>);
    // And its value: v -> v^2 + v has derivative 2v + 1 per level; at x = 0 each level maps 0 to
    // 0 with derivative 1, so the gradient is the seed.
    tensor<double> X(2, 3, 0.0), DY(2, 3, 1.5);
    const auto [dx] = interpret<double>(dchain, x = X, input<"dy"> = DY);
    for (std::size_t i = 0; i < dx.size(); ++i) REQUIRE(dx.data()[i] == 1.5);
}
