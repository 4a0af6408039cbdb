// Elementwise primitives: each one against its closed form, in double and float, and at its edge cases.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/length.hpp>
#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto a = input<"a">;
constexpr auto b = input<"b">;

// Two graphs cover every primitive: one output per primitive, checked in the order listed.
constexpr auto binary = outputs(a + b, a - b, a * b, a / b, max(a, b), greater(a, b));
constexpr auto unary = outputs(-a, exp(a), log(a), sqrt(a), rsqrt(a), tanh(a), erf(a));

using binary_graph = decltype(binary);
using unary_graph = decltype(unary);

constexpr std::array<std::string_view, 6> binary_names{"a + b", "a - b", "a * b", "a / b", "max(a, b)", "greater(a, b)"};
constexpr std::array<std::string_view, 7> unary_names{"-a", "exp(a)", "log(a)", "sqrt(a)", "rsqrt(a)", "tanh(a)", "erf(a)"};

constexpr double quiet_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

// The closed forms, in double whatever the interpreter's element type.
double binary_form(std::size_t i, double x, double y) {
    switch (i) {
        case 0: return x + y;
        case 1: return x - y;
        case 2: return x * y;
        case 3: return x / y;
        case 4: return std::isnan(x) || std::isnan(y) ? quiet_nan : std::max(x, y);
        default: return x > y ? 1.0 : 0.0;
    }
}

double unary_form(std::size_t i, double x) {
    switch (i) {
        case 0: return -x;
        case 1: return std::exp(x);
        case 2: return std::log(x);
        case 3: return std::sqrt(x);
        case 4: return 1.0 / std::sqrt(x);
        case 5: return std::tanh(x);
        default: return std::erf(x);
    }
}

// Tolerance against the double closed form rounded to T, as a multiple of T's epsilon relative to
// the expected value. In double the interpreter calls the same std:: function on the same value,
// so it agrees exactly in practice. In float, glibc's float functions are not correctly rounded
// and rsqrt = 1 / sqrt rounds twice: on this data the worst is 1.2 epsilon (tanh). 4 leaves room
// for another libm, and a wrong formula is off by far more.
constexpr int epsilons = 4;

template <class T>
bool within_tolerance(T actual, T expected) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected) || expected == 0) return actual == expected;
    return std::abs(actual - expected) <= epsilons * std::numeric_limits<T>::epsilon() * std::abs(expected);
}

// The outputs of a graph run by `it`, as an array of views.
template <class T, class G>
auto output_views(const interpreter<T, G>& it) {
    constexpr std::size_t count = decltype(boost::hana::length(G::roots))::value;
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<view<const T>, count>{it.template output<I>()...};
    }(std::make_index_sequence<count>{});
}

// Output i of `it` against form(i, operands at (r, c)...), element by element; reports the
// first element that differs.
template <class T, class G, std::size_t N, class Form, class... Operands>
void check_closed_forms(const interpreter<T, G>& it, const std::array<std::string_view, N>& names, Form form,
                        const Operands&... operands) {
    const auto outs = output_views(it);
    const auto& first = std::get<0>(std::tie(operands...));
    for (std::size_t i = 0; i < N; ++i) {
        INFO("primitive " << names[i]);
        REQUIRE(outs[i].rows() == first.rows());
        REQUIRE(outs[i].cols() == first.cols());
        for (std::size_t r = 0; r < outs[i].rows(); ++r)
            for (std::size_t c = 0; c < outs[i].cols(); ++c) {
                const T expected = static_cast<T>(form(i, static_cast<double>(operands(r, c))...));
                if (within_tolerance(outs[i](r, c), expected)) continue;
                const std::array<double, sizeof...(Operands)> inputs{static_cast<double>(operands(r, c))...};
                CAPTURE(r, c, inputs);
                CHECK(outs[i](r, c) == expected);
                return;
            }
    }
}

template <class T>
void check_binary(const tensor<T>& lhs, const tensor<T>& rhs) {
    interpreter<T, binary_graph> it;
    it.run(a = lhs, b = rhs);
    check_closed_forms(it, binary_names, binary_form, lhs, rhs);
}

template <class T>
void check_unary(const tensor<T>& operand) {
    interpreter<T, unary_graph> it;
    it.run(a = operand);
    check_closed_forms(it, unary_names, unary_form, operand);
}

// Mixed-sign samples (log, sqrt and rsqrt give NaN on the negative half, checked as NaN) and
// their absolute values, on which every unary primitive is finite.
template <class T>
std::pair<tensor<T>, tensor<T>> unary_samples() {
    tensor<T> mixed = testing::random_tensor<T>(9, 13, 21, 0.0, 2.0);
    tensor<T> positive = mixed;
    for (std::size_t i = 0; i < positive.size(); ++i) positive.data()[i] = std::abs(positive.data()[i]);
    return {std::move(mixed), std::move(positive)};
}

// One evaluation of a unary primitive (output I of `unary`) on a row of values.
template <std::size_t I, class T>
tensor<T> unary_at(const tensor<T>& values) {
    interpreter<T, unary_graph> it;
    it.run(a = values);
    return tensor<T>::copy_of(it.template output<I>());
}

template <class T>
void check_exp_near_overflow(std::initializer_list<T> near_limit) {
    const tensor<T> values{near_limit};
    const tensor<T> result = unary_at<1>(values);
    std::size_t finite = 0;
    for (std::size_t c = 0; c < values.cols(); ++c) {
        CAPTURE(values(0, c));
        CHECK(within_tolerance(result(0, c), std::exp(values(0, c))));  // std::exp in T: the float overload for float
        finite += std::isfinite(result(0, c));
    }
    // The values straddle the overflow threshold of T, or the check above would prove little.
    CHECK(finite > 0);
    CHECK(finite < values.cols());
}

}  // namespace

TEST_CASE("binary primitives equal their closed forms on random data", "[primitives]") {
    const auto lhs = testing::random_tensor(11, 17, 1);
    const auto rhs = testing::random_tensor(11, 17, 2);
    SECTION("double") { check_binary(lhs, rhs); }
    SECTION("float") { check_binary(tensor<float>::copy_of(lhs.view()), tensor<float>::copy_of(rhs.view())); }
}

TEST_CASE("unary primitives equal their closed forms on random data", "[primitives]") {
    SECTION("double") {
        const auto [mixed, positive] = unary_samples<double>();
        check_unary(mixed);
        check_unary(positive);
    }
    SECTION("float") {
        const auto [mixed, positive] = unary_samples<float>();
        check_unary(mixed);
        check_unary(positive);
    }
}

TEST_CASE("max propagates NaN from either side, and greater is 0 at ties", "[primitives]") {
    // Columns: max(NaN, 0), max(0, NaN), ties (1, 1) and (-2, -2), greater with NaN, and 0 vs -0.
    const tensor<double> lhs{{quiet_nan, 0, 1, -2, quiet_nan, 0.0}};
    const tensor<double> rhs{{0, quiet_nan, 1, -2, 1, -0.0}};
    interpreter<double, binary_graph> it;
    it.run(a = lhs, b = rhs);
    const auto max_out = it.output<4>();
    const auto greater_out = it.output<5>();
    CHECK(std::isnan(max_out(0, 0)));
    CHECK(std::isnan(max_out(0, 1)));
    CHECK(max_out(0, 2) == 1);
    CHECK(max_out(0, 3) == -2);
    for (std::size_t c = 2; c < lhs.cols(); ++c) {
        CAPTURE(c);
        CHECK(greater_out(0, c) == 0);  // equal values (0 == -0 too) and NaN are not greater
    }
    // Every primitive on these values, in both precisions (the closed form of max propagates NaN).
    check_binary(lhs, rhs);
    check_binary(tensor<float>::copy_of(lhs.view()), tensor<float>::copy_of(rhs.view()));
}

TEST_CASE("select(c, a, b) is a where c is not 0, else b, and never reads the other into the result", "[primitives]") {
    // Columns: c = 1 with a NaN b, c = 0 with a NaN a, c = -2 (not 0) with an inf b, c = -0 (0).
    const tensor<double> c{{1, 0, -2, -0.0}};
    const tensor<double> lhs{{5, quiet_nan, 7, 8}};
    const tensor<double> rhs{{quiet_nan, 3, infinity, 9}};
    const auto out = interpret<double>(select(a, b, input<"c">), a = c, b = lhs, input<"c"> = rhs);
    CHECK(out(0, 0) == 5);
    CHECK(out(0, 1) == 3);
    CHECK(out(0, 2) == 7);
    CHECK(out(0, 3) == 9);
}

TEST_CASE("division by zero gives inf, log(0) is -inf and rsqrt(0) is inf", "[primitives]") {
    const tensor<double> lhs{{1, -1, 0}};
    const tensor<double> rhs{{0, 0, 0}};
    const auto quotient = std::get<3>(interpret<double>(binary, a = lhs, b = rhs));
    CHECK(quotient(0, 0) == infinity);
    CHECK(quotient(0, 1) == -infinity);
    CHECK(std::isnan(quotient(0, 2)));

    const tensor<double> zero{{0.0}};
    CHECK(unary_at<2>(zero)(0, 0) == -infinity);
    CHECK(unary_at<4>(zero)(0, 0) == infinity);
    CHECK(unary_at<2>(tensor<float>::copy_of(zero.view()))(0, 0) == -std::numeric_limits<float>::infinity());
    CHECK(unary_at<4>(tensor<float>::copy_of(zero.view()))(0, 0) == std::numeric_limits<float>::infinity());
}

TEST_CASE("exp near overflow agrees with std::exp, inf included", "[primitives]") {
    // log(FLT_MAX) = 88.7228..., log(DBL_MAX) = 709.7827...
    SECTION("float") { check_exp_near_overflow<float>({88.70f, 88.72f, 88.7228f, 88.723f, 88.73f, 89.0f, 100.0f}); }
    SECTION("double") { check_exp_near_overflow<double>({709.70, 709.78, 709.7827, 709.783, 709.79, 710.0, 800.0}); }
}
