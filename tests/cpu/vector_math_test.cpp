// The float forms of the transcendental primitives (cpu/vector_math.hpp) against double
// precision: a float kernel computes exp, log, tanh and erf through them.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include <etna/cpu/vector_math.hpp>

namespace {

using namespace etna;

// |got - exact| in units of the last place of the float nearest to exact.
double ulps(float got, double exact) {
    const auto nearest = static_cast<float>(exact);
    const double ulp = std::nextafter(std::abs(nearest), std::numeric_limits<float>::infinity()) - std::abs(nearest);
    return std::abs(static_cast<double>(got) - exact) / ulp;
}

// The largest error of float_form<Op> over every stride-th float of [low, high] (0 < low) and,
// unless positive_only, of their negations.
template <class Op, class Exact>
double worst_ulps(float low, float high, std::uint32_t stride, Exact exact, bool positive_only = false) {
    double worst = 0;
    for (std::uint32_t bits = std::bit_cast<std::uint32_t>(low); bits <= std::bit_cast<std::uint32_t>(high); bits += stride)
        for (const float sign : {1.0f, -1.0f})
            if (sign > 0 || !positive_only) {
                const float a = sign * std::bit_cast<float>(bits);
                worst = std::max(worst, ulps(cpu::float_form<Op>::apply(a), exact(static_cast<double>(a))));
            }
    return worst;
}

}  // namespace

TEST_CASE("float erf is within 8 ulps of erf and keeps NaN, infinities and signed zero", "[vector_math]") {
    // 1e-30 .. 10: from where erf(a) = 2a / sqrt(pi) to where it is 1 in float; 6.5 ulps measured
    // (near 3.9, where the rational function meets the clamp).
    CHECK(worst_ulps<prim::erf>(1e-30f, 10.0f, 97, [](double a) { return std::erf(a); }) <= 8);
    const auto erf = [](float a) { return cpu::float_form<prim::erf>::apply(a); };
    CHECK(std::isnan(erf(std::numeric_limits<float>::quiet_NaN())));
    CHECK(erf(std::numeric_limits<float>::infinity()) == 1.0f);
    CHECK(erf(-std::numeric_limits<float>::infinity()) == -1.0f);
    CHECK(erf(1e30f) == 1.0f);
    CHECK(std::signbit(erf(-0.0f)));
    CHECK(erf(0.0f) == 0.0f);
}

TEST_CASE("float exp, log and tanh are within 4 ulps", "[vector_math]") {
    CHECK(worst_ulps<prim::exp>(1e-30f, 80.0f, 997, [](double a) { return std::exp(a); }) <= 4);
    CHECK(worst_ulps<prim::tanh>(1e-30f, 20.0f, 997, [](double a) { return std::tanh(a); }) <= 4);
    CHECK(worst_ulps<prim::log>(1e-30f, 1e30f, 997, [](double a) { return std::log(a); }, true) <= 4);
}
