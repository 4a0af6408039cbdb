// Formulas: the printed text of expressions is stable (golden), let-bound, and faithful to structure.
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/deep_chain.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto g = param<"ln.g">;
constexpr auto b = param<"ln.b">;
constexpr auto pad = mask<"pad">;

template <class E>
std::string text(E e) {
    return fmt::format("{}", e);
}


}  // namespace

TEST_CASE("the norms print as written, each shared sub-expression let-bound once", "[formula]") {
    CHECK(text(layer_norm(x, g, b)) ==
          "let v1 = x - mean_f(x) in\n"
          "v1 * rsqrt(mean_f(v1 * v1) + 1e-05) * ln.g + ln.b");
    CHECK(text(rms_norm(x, g)) == "x * rsqrt(mean_f(x * x) + 1e-05) * ln.g");
    CHECK(text(batch_norm(x, g, b)) ==
          "let v1 = x - mean_t(x) in\n"
          "v1 * rsqrt(mean_t(v1 * v1) + 1e-05) * ln.g + ln.b");
    CHECK(text(batch_norm_masked(x, pad, g, b)) ==
          "let v1 = x - mean_t(x, pad) in\n"
          "v1 * rsqrt(mean_t(v1 * v1, pad) + 1e-05) * ln.g + ln.b");
}

TEST_CASE("several outputs print together, sharing their let bindings", "[formula]") {
    constexpr auto stream = x + y;
    CHECK(text(outputs(stream, layer_norm(stream, g, b))) ==
          "let v1 = x + y in\n"
          "let v2 = v1 - mean_f(v1) in\n"
          "outputs(v1, v2 * rsqrt(mean_f(v2 * v2) + 1e-05) * ln.g + ln.b)");
    CHECK(text(outputs(sum_f(x), mean_f(x))) == "outputs(sum_f(x), mean_f(x))");
}

TEST_CASE("a pre-norm block prints its residual path and its sublayer", "[formula]") {
    constexpr auto block = pre_norm(x, [](auto v) { return rms_norm(v, g); }, [](auto h) { return silu(h); });
    CHECK(text(block) ==
          "let v1 = x * rsqrt(mean_f(x * x) + 1e-05) * ln.g in\n"
          "x + v1 * (1 / (1 + exp(-v1)))");
}

TEST_CASE("parentheses follow the tree, never the algebra", "[formula]") {
    // Floating-point operations do not associate: the text must show which one is computed.
    CHECK(text(x - y - g) == "x - y - ln.g");
    CHECK(text(x - (y - g)) == "x - (y - ln.g)");
    CHECK(text(x + (y + g)) == "x + (y + ln.g)");
    CHECK(text(x / (y * g)) == "x / (y * ln.g)");
    CHECK(text(x * y / g) == "x * y / ln.g");
    CHECK(text((x + y) * g) == "(x + y) * ln.g");
    CHECK(text(-(x + y)) == "-(x + y)");
    CHECK(text(-(-x)) == "-(-x)");
    CHECK(text(exp(-x)) == "exp(-x)");
    CHECK(text(greater(x, y) * g) == "(x > y) * ln.g");
    CHECK(text(greater(x + y, g)) == "x + y > ln.g");
    CHECK(text(max(x, constant<0.0>)) == "max(x, 0)");
    CHECK(text(x * constant<-2.0>) == "x * -2");
}

TEST_CASE("leaves, constants and extents print by name", "[formula]") {
    CHECK(text(x) == "x");
    CHECK(text(constant<1e-05>) == "1e-05");
    CHECK(text(x * scalar<"lr">) == "x * lr");
    CHECK(text(sum_t(x) / token_count{}) == "mean_t(x)");
    CHECK(text(sum_f(x) * feature_count<>{}) == "sum_f(x) * D");
    CHECK(text(mean_f(input<"h", act_over<"ff">>)) == "mean_f(h)");
    CHECK(text(sum_f(input<"h", act_over<"ff">>) * feature_count<"ff">{}) == "sum_f(h) * D[ff]");
}

TEST_CASE("a deep chain of shared sub-expressions prints in size linear in its depth", "[formula]") {
    // 2^24 paths: written as a tree this would be gigabytes of text.
    const std::string printed = text(etna::testing::deep_chain<24>(x));
    CHECK(printed.size() < 1000);
    CHECK(printed.rfind("let v1 = x * x + x in\n", 0) == 0);
    CHECK(printed.find("let v23 = v22 * v22 + v22 in\nv23 * v23 + v23") != std::string::npos);
}
