// Kinds: leaves' kinds, broadcasting of every kind pair, reductions, feature-axis names.
#include <type_traits>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;    // Act
constexpr auto g = param<"g">;    // PerFeature
constexpr auto m = mask<"m">;     // PerToken
constexpr auto s = scalar<"s">;   // Scalar

template <class E, class K>
constexpr bool has_kind(E) { return std::is_same_v<kind_of<E>, K>; }

}  // namespace

TEST_CASE("leaves and constants have the documented kinds", "[kind]") {
    STATIC_REQUIRE(has_kind<decltype(x), Act>(x));
    STATIC_REQUIRE(has_kind<decltype(g), PerFeature>(g));
    STATIC_REQUIRE(has_kind<decltype(m), PerToken>(m));
    STATIC_REQUIRE(has_kind<decltype(s), Scalar>(s));
    STATIC_REQUIRE(has_kind<decltype(constant<0.5>), Scalar>(constant<0.5>));
    STATIC_REQUIRE(has_kind<decltype(input<"t", PerToken>), PerToken>(input<"t", PerToken>));
}

TEST_CASE("broadcasting: the union of axes, for every pair of kinds", "[kind]") {
    // Rows: left operand; columns: right operand (Act, PerFeature, PerToken, Scalar).
    STATIC_REQUIRE(has_kind<decltype(x + x), Act>(x + x));
    STATIC_REQUIRE(has_kind<decltype(x + g), Act>(x + g));
    STATIC_REQUIRE(has_kind<decltype(x + m), Act>(x + m));
    STATIC_REQUIRE(has_kind<decltype(x + s), Act>(x + s));

    STATIC_REQUIRE(has_kind<decltype(g + x), Act>(g + x));
    STATIC_REQUIRE(has_kind<decltype(g + g), PerFeature>(g + g));
    STATIC_REQUIRE(!broadcastable<PerFeature, PerToken>);  // g + m: a kind error (tests/compile_fail)
    STATIC_REQUIRE(has_kind<decltype(g + s), PerFeature>(g + s));

    STATIC_REQUIRE(has_kind<decltype(m + x), Act>(m + x));
    STATIC_REQUIRE(!broadcastable<PerToken, PerFeature>);  // m + g: a kind error
    STATIC_REQUIRE(has_kind<decltype(m + m), PerToken>(m + m));
    STATIC_REQUIRE(has_kind<decltype(m + s), PerToken>(m + s));

    STATIC_REQUIRE(has_kind<decltype(s + x), Act>(s + x));
    STATIC_REQUIRE(has_kind<decltype(s + g), PerFeature>(s + g));
    STATIC_REQUIRE(has_kind<decltype(s + m), PerToken>(s + m));
    STATIC_REQUIRE(has_kind<decltype(s + s), Scalar>(s + s));
}

TEST_CASE("unary primitives keep their operand's kind", "[kind]") {
    STATIC_REQUIRE(has_kind<decltype(exp(g)), PerFeature>(exp(g)));
    STATIC_REQUIRE(has_kind<decltype(-m), PerToken>(-m));
    STATIC_REQUIRE(has_kind<decltype(rsqrt(s)), Scalar>(rsqrt(s)));
    STATIC_REQUIRE(has_kind<decltype(tanh(x)), Act>(tanh(x)));
}

TEST_CASE("reductions remove the axis they sum over", "[kind]") {
    STATIC_REQUIRE(has_kind<decltype(sum_f(x)), PerToken>(sum_f(x)));
    STATIC_REQUIRE(has_kind<decltype(sum_t(x)), PerFeature>(sum_t(x)));
    STATIC_REQUIRE(has_kind<decltype(sum_f(g)), Scalar>(sum_f(g)));
    STATIC_REQUIRE(has_kind<decltype(sum_t(m)), Scalar>(sum_t(m)));
    STATIC_REQUIRE(has_kind<decltype(mean_f(x)), PerToken>(mean_f(x)));
    STATIC_REQUIRE(has_kind<decltype(mean_t(x)), PerFeature>(mean_t(x)));
    STATIC_REQUIRE(has_kind<decltype(mean_t(x, m)), PerFeature>(mean_t(x, m)));
}

TEST_CASE("a feature axis keeps its name through broadcasting and reduction", "[kind]") {
    constexpr auto h = input<"h", act_over<"ff">>;
    constexpr auto b = param<"b", per_feature_over<"ff">>;
    STATIC_REQUIRE(has_kind<decltype(h + b), act_over<"ff">>(h + b));
    STATIC_REQUIRE(has_kind<decltype(h * m), act_over<"ff">>(h * m));
    STATIC_REQUIRE(has_kind<decltype(sum_t(h)), per_feature_over<"ff">>(sum_t(h)));
    STATIC_REQUIRE(has_kind<decltype(mean_f(h)), PerToken>(mean_f(h)));
    STATIC_REQUIRE(!broadcastable<Act, act_over<"ff">>);
    STATIC_REQUIRE(!broadcastable<PerFeature, act_over<"ff">>);
    STATIC_REQUIRE(broadcastable<PerToken, act_over<"ff">>);
}

TEST_CASE("kinds print as the documentation names them", "[kind]") {
    CHECK(kind_name<Act>() == "Act");
    CHECK(kind_name<PerFeature>() == "PerFeature");
    CHECK(kind_name<PerToken>() == "PerToken");
    CHECK(kind_name<Scalar>() == "Scalar");
    CHECK(kind_name<act_over<"ff">>() == "Act[ff]");
    CHECK(kind_name<per_feature_over<"ff">>() == "PerFeature[ff]");
}
