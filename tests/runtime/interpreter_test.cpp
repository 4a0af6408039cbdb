// The reference interpreter: reductions, broadcasting of every kind pair, outputs, reuse, edge shapes, deep DAGs.
#include <cmath>
#include <cstddef>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/deep_chain.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto m = mask<"m">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

constexpr auto reductions = outputs(sum_f(x), sum_t(x), mean_f(x), mean_t(x), mean_t(x, m));

// LayerNorm written out in primitives; two outputs that share the centred values.
constexpr auto centred = x - mean_f(x);
constexpr auto normalized = centred * rsqrt(mean_f(centred * centred) + constant<1e-5>) * g + b;
constexpr auto norm = outputs(centred, normalized);

constexpr double eps = std::numeric_limits<double>::epsilon();

// Shapes (tokens, features): odd sizes, one token, one feature, a single element.
constexpr std::pair<std::size_t, std::size_t> shapes[] = {{3, 5}, {17, 33}, {1, 6}, {4, 1}, {1, 1}};

// A value computed by a plain loop, and how far a correct interpreter may be from it.
struct reference {
    double value;
    double tolerance;
};

// A sum of n terms, in any order, is within (n - 1) eps / 2 * sum |terms| of the exact sum, so two
// correct summations differ by at most n eps sum |terms|. A mean adds one rounding (eps |mean|).
template <class Term>
reference sum_of(std::size_t n, Term term) {
    double sum = 0;
    double magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += term(i);
        magnitude += std::abs(term(i));
    }
    return {sum, static_cast<double>(n) * eps * magnitude};
}

reference mean_of(reference sum, double count) {
    const double mean = sum.value / count;
    return {mean, sum.tolerance / count + eps * std::abs(mean)};
}

// Compares a rows x cols output with expected(r, c) -> reference; reports the first element out
// of tolerance (one assertion per output rather than one per element).
template <class Expected>
void check_output(const char* name, view<const double> actual, std::size_t rows, std::size_t cols, Expected expected) {
    INFO(name);
    REQUIRE(actual.rows() == rows);
    REQUIRE(actual.cols() == cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const reference e = expected(r, c);
            if (std::abs(actual(r, c) - e.value) <= e.tolerance) continue;
            CAPTURE(r, c, e.tolerance);
            CHECK(actual(r, c) == e.value);
            return;
        }
}

// A 0/1 padding mask: every third token, from the second one, is padding.
std::vector<double> padding_mask(std::size_t tokens) {
    std::vector<double> mask(tokens);
    for (std::size_t r = 0; r < tokens; ++r) mask[r] = r % 3 == 1 ? 0.0 : 1.0;
    return mask;
}

void check_reductions(const tensor<double>& values, const std::vector<double>& mask) {
    const std::size_t tokens = values.rows();
    const std::size_t features = values.cols();
    const auto [sum_f_out, sum_t_out, mean_f_out, mean_t_out, masked_out] =
        interpret<double>(reductions, x = values, m = mask);

    const auto row_sum = [&](std::size_t r) { return sum_of(features, [&](std::size_t c) { return values(r, c); }); };
    const auto column_sum = [&](std::size_t c) { return sum_of(tokens, [&](std::size_t r) { return values(r, c); }); };
    const double unmasked = sum_of(tokens, [&](std::size_t r) { return mask[r]; }).value;

    check_output("sum_f", sum_f_out.view(), tokens, 1, [&](std::size_t r, std::size_t) { return row_sum(r); });
    check_output("sum_t", sum_t_out.view(), 1, features, [&](std::size_t, std::size_t c) { return column_sum(c); });
    check_output("mean_f", mean_f_out.view(), tokens, 1,
                 [&](std::size_t r, std::size_t) { return mean_of(row_sum(r), static_cast<double>(features)); });
    check_output("mean_t", mean_t_out.view(), 1, features,
                 [&](std::size_t, std::size_t c) { return mean_of(column_sum(c), static_cast<double>(tokens)); });
    check_output("mean_t(x, m)", masked_out.view(), 1, features, [&](std::size_t, std::size_t c) {
        return mean_of(sum_of(tokens, [&](std::size_t r) { return values(r, c) * mask[r]; }), unmasked);
    });
}

// LayerNorm of one token by plain loops, in double.
struct norm_reference {
    std::vector<double> centred;
    double rstd;
};

norm_reference normalize_token(const tensor<double>& values, std::size_t r) {
    const std::size_t features = values.cols();
    double sum = 0;
    for (std::size_t c = 0; c < features; ++c) sum += values(r, c);
    norm_reference token{std::vector<double>(features), 0};
    double squares = 0;
    for (std::size_t c = 0; c < features; ++c) {
        token.centred[c] = values(r, c) - sum / static_cast<double>(features);
        squares += token.centred[c] * token.centred[c];
    }
    token.rstd = 1 / std::sqrt(squares / static_cast<double>(features) + 1e-5);
    return token;
}

// The norm graph's outputs against the loop. In double, sums of at most 64 terms of size O(1)
// carry rounding errors near 64 eps ~ 1e-14; 1e-12 (absolute and relative) leaves a wide margin,
// while a wrong formula is off by O(1).
void check_norm(view<const double> centred_out, view<const double> normalized_out, const tensor<double>& values,
                const std::vector<double>& gamma, const std::vector<double>& beta) {
    const std::size_t tokens = values.rows();
    const std::size_t features = values.cols();
    std::vector<norm_reference> per_token;
    for (std::size_t r = 0; r < tokens; ++r) per_token.push_back(normalize_token(values, r));
    const auto within = [](double value) { return reference{value, 1e-12 * (1 + std::abs(value))}; };
    check_output("centred", centred_out, tokens, features,
                 [&](std::size_t r, std::size_t c) { return within(per_token[r].centred[c]); });
    check_output("normalized", normalized_out, tokens, features, [&](std::size_t r, std::size_t c) {
        return within(per_token[r].centred[c] * per_token[r].rstd * gamma[c] + beta[c]);
    });
}

std::vector<double> random_vector(std::size_t n, unsigned seed, double mean, double stddev) {
    const auto values = testing::random_tensor(1, n, seed, mean, stddev);
    return {values.data(), values.data() + n};
}

// Broadcasting: `a - b` for leaves of kinds KA and KB (subtraction, so that swapped operands show).
template <a_kind K>
std::size_t rows_of(std::size_t tokens) { return K::has_tokens ? tokens : 1; }
template <a_kind K>
std::size_t cols_of(std::size_t features) { return K::has_features ? features : 1; }
template <a_kind K>
double element_of(const tensor<double>& values, std::size_t r, std::size_t c) {
    return values(K::has_tokens ? r : 0, K::has_features ? c : 0);
}

template <a_kind KA, a_kind KB>
void check_broadcast(std::size_t tokens, std::size_t features) {
    constexpr auto a = input<"a", KA>;
    constexpr auto b_leaf = input<"b", KB>;
    INFO(kind_name<KA>() << " - " << kind_name<KB>());
    const auto lhs = testing::random_tensor(rows_of<KA>(tokens), cols_of<KA>(features), 5);
    const auto rhs = testing::random_tensor(rows_of<KB>(tokens), cols_of<KB>(features), 6);
    const auto result = interpret<double>(a - b_leaf, a = lhs, b_leaf = rhs);
    const std::size_t rows = KA::has_tokens || KB::has_tokens ? tokens : 1;
    const std::size_t cols = KA::has_features || KB::has_features ? features : 1;
    // One subtraction of the same two doubles: exact agreement.
    check_output("a - b", result.view(), rows, cols, [&](std::size_t r, std::size_t c) {
        return reference{element_of<KA>(lhs, r, c) - element_of<KB>(rhs, r, c), 0};
    });
}

void check_every_kind_pair(std::size_t tokens, std::size_t features) {
    check_broadcast<Act, Act>(tokens, features);
    check_broadcast<Act, PerFeature>(tokens, features);
    check_broadcast<PerFeature, Act>(tokens, features);
    check_broadcast<Act, PerToken>(tokens, features);
    check_broadcast<PerToken, Act>(tokens, features);
    check_broadcast<Act, Scalar>(tokens, features);
    check_broadcast<Scalar, Act>(tokens, features);
    check_broadcast<PerFeature, PerFeature>(tokens, features);
    check_broadcast<PerFeature, Scalar>(tokens, features);
    check_broadcast<Scalar, PerFeature>(tokens, features);
    check_broadcast<PerToken, PerToken>(tokens, features);
    check_broadcast<PerToken, Scalar>(tokens, features);
    check_broadcast<Scalar, PerToken>(tokens, features);
    check_broadcast<Scalar, Scalar>(tokens, features);
}


}  // namespace

TEST_CASE("reductions equal sums and means computed by plain loops", "[interpreter]") {
    for (const auto& [tokens, features] : shapes) {
        CAPTURE(tokens, features);
        check_reductions(testing::random_tensor(tokens, features, 11, 0.5, 2.0), padding_mask(tokens));
    }
}

TEST_CASE("mean_t(x, m) ignores the padding tokens whatever their values, and refuses a mask that masks every token",
          "[interpreter]") {
    auto values = testing::random_tensor(6, 4, 12);
    const auto mask = padding_mask(6);
    const auto reference_mean = std::get<4>(interpret<double>(reductions, x = values, m = mask));
    for (std::size_t c = 0; c < values.cols(); ++c) values(1, c) = values(4, c) = 1e6;  // the padding tokens
    const auto padded_mean = std::get<4>(interpret<double>(reductions, x = values, m = mask));
    // A padding token adds x * 0 = 0 exactly, whatever x: the means are bitwise equal.
    for (std::size_t c = 0; c < values.cols(); ++c) CHECK(padded_mean(0, c) == reference_mean(0, c));

    // A mean over no token would be 0 / 0 (runtime/binding.hpp, check_mask_keeps_a_token).
    const std::vector<double> nothing(6, 0.0);
    CHECK_THROWS_WITH(interpret<double>(reductions, x = values, m = nothing),
                      Catch::Contains("mask 'm' masks every one of its 6 tokens"));
}

TEST_CASE("broadcasting: element (r, c) combines each operand at (r or 0, c or 0), for every valid kind pair",
          "[interpreter][broadcast]") {
    for (const auto& [tokens, features] : shapes) {
        CAPTURE(tokens, features);
        check_every_kind_pair(tokens, features);
    }
}

TEST_CASE("outputs(...) evaluates several outputs sharing nodes, each as its own tensor", "[interpreter]") {
    const auto values = testing::random_tensor(7, 9, 21, 1.0, 3.0);
    const auto gamma = random_vector(9, 22, 1.0, 0.5);
    const auto beta = random_vector(9, 23, 0.0, 0.5);
    const auto [centred_out, normalized_out] = interpret<double>(norm, x = values, g = gamma, b = beta);
    check_norm(centred_out.view(), normalized_out.view(), values, gamma, beta);

    // interpreter::output<I>() views the same values, in the same order; the graph's type may be
    // the const one of a constexpr variable.
    interpreter<double, decltype(norm)> it;
    it.run(x = values, g = gamma, b = beta);
    check_norm(it.output<0>(), it.output<1>(), values, gamma, beta);
}

TEST_CASE("an interpreter reused across shapes gives the results of fresh ones, and keeps its buffers", "[interpreter]") {
    interpreter<double, decltype(norm)> it;
    // Other features only, other tokens too, back to an earlier shape, zero tokens, one feature.
    constexpr std::pair<std::size_t, std::size_t> sequence[] = {{5, 3}, {5, 8}, {2, 7}, {5, 3}, {0, 7}, {9, 1}};
    for (const auto& [tokens, features] : sequence) {
        CAPTURE(tokens, features);
        const auto values = testing::random_tensor(tokens, features, static_cast<unsigned>(31 + tokens));
        const auto gamma = random_vector(features, 32, 1.0, 0.5);
        const auto beta = random_vector(features, 33, 0.0, 0.5);
        it.run(x = values, g = gamma, b = beta);
        const auto [fresh_centred, fresh_normalized] = interpret<double>(norm, x = values, g = gamma, b = beta);
        // Same code on the same data, so bitwise equal: a stale buffer or size would show.
        check_output("centred", it.output<0>(), tokens, features,
                     [&](std::size_t r, std::size_t c) { return reference{fresh_centred(r, c), 0}; });
        check_output("normalized", it.output<1>(), tokens, features,
                     [&](std::size_t r, std::size_t c) { return reference{fresh_normalized(r, c), 0}; });

        // A second run at the same shape writes into the same buffers.
        const double* before = it.output<1>().data();
        it.run(x = values, g = gamma, b = beta);
        CHECK(it.output<1>().data() == before);
    }
}

TEST_CASE("zero tokens give empty Act outputs and zero sums over tokens", "[interpreter]") {
    const tensor<double> values(0, 4);
    const std::vector<double> gamma(4, 1.0);
    const std::vector<double> beta(4, 0.0);
    const auto [centred_out, normalized_out] = interpret<double>(norm, x = values, g = gamma, b = beta);
    CHECK(centred_out.rows() == 0);
    CHECK(normalized_out.rows() == 0);
    CHECK(normalized_out.cols() == 4);

    check_broadcast<Act, PerFeature>(0, 4);
    check_broadcast<PerToken, Scalar>(0, 4);

    const std::vector<double> no_mask;
    const auto [sum_f_out, sum_t_out, mean_f_out, mean_t_out, masked_out] =
        interpret<double>(reductions, x = values, m = no_mask);
    CHECK(sum_f_out.rows() == 0);
    CHECK(mean_f_out.rows() == 0);
    for (std::size_t c = 0; c < 4; ++c) {
        CHECK(sum_t_out(0, c) == 0);
        CHECK(std::isnan(mean_t_out(0, c)));  // the mean of no tokens is 0 / 0
        CHECK(std::isnan(masked_out(0, c)));
    }
}

TEST_CASE("with one feature a token is its own mean, and LayerNorm gives beta", "[interpreter]") {
    const auto values = testing::random_tensor(6, 1, 41, 2.0, 3.0);
    const std::vector<double> gamma{1.7};
    const std::vector<double> beta{-0.3};
    const auto [centred_out, normalized_out] = interpret<double>(norm, x = values, g = gamma, b = beta);
    check_norm(centred_out.view(), normalized_out.view(), values, gamma, beta);
    for (std::size_t r = 0; r < values.rows(); ++r) {
        CHECK(centred_out(r, 0) == 0);
        CHECK(normalized_out(r, 0) == beta[0]);
    }
}

TEST_CASE("the float interpreter is close to the double one", "[interpreter][precision]") {
    // The same float-representable data for both, so the difference is float arithmetic alone.
    const auto values_float = testing::random_tensor<float>(32, 64, 51, 0.5, 2.0);
    const auto values = tensor<double>::copy_of(values_float.view());
    const auto gamma_float = testing::random_tensor<float>(1, 64, 52, 1.0, 0.5);
    const auto beta_float = testing::random_tensor<float>(1, 64, 53, 0.0, 0.5);

    const auto in_double = interpret<double>(norm, x = values, g = gamma_float, b = beta_float);
    const auto in_float = interpret<float>(norm, x = values_float, g = gamma_float, b = beta_float);

    // A float sum of n terms errs by at most n * 2^-24 relative to the sum of magnitudes: over
    // D = 64 features that is 3.8e-6, inherited by the mean and the variance; the outputs (O(1),
    // up to 8 here) add a few roundings of 2^-24 each. 2e-5 * (1 + |value|) covers that worst
    // case (the error measured on this data is 2.3e-7); a float path that computes something
    // else is off by O(1).
    const auto close = [](double value) { return reference{value, 2e-5 * (1 + std::abs(value))}; };
    const auto centred_float = tensor<double>::copy_of(std::get<0>(in_float).view());
    const auto normalized_float = tensor<double>::copy_of(std::get<1>(in_float).view());
    check_output("centred", centred_float.view(), 32, 64,
                 [&](std::size_t r, std::size_t c) { return close(std::get<0>(in_double)(r, c)); });
    check_output("normalized", normalized_float.view(), 32, 64,
                 [&](std::size_t r, std::size_t c) { return close(std::get<1>(in_double)(r, c)); });
}

TEST_CASE("a 24-deep chain of shared sub-expressions evaluates each node once", "[interpreter][dag]") {
    // Re-evaluating shared nodes would take 2^24 evaluations per element: minutes, not microseconds.
    constexpr auto deep = testing::deep_chain<24>(x);
    STATIC_REQUIRE(node_count<decltype(deep)> == 49);
    // Values in (-1, 0), where w * w + w stays in (-1, 0) and shrinks towards 0: no overflow.
    const auto values = testing::random_tensor(64, 32, 61, -0.5, 0.1);

    // 49 materialized nodes, where a tree walk would evaluate 2^24 paths per element.
    interpreter<double, decltype(deep)> eager;
    eager.run(x = values);
    CHECK(eager.evaluations() == 49);
    const auto result = tensor<double>::copy_of(eager.output<0>());

    // The same recurrence by a plain loop. Each step maps (-1, 0) into itself with a slope
    // |2w + 1| < 1, so rounding differences (say a fused multiply-add in this loop) do not grow:
    // they stay at a few ulps, far inside 1e-12 relative.
    check_output("chain", result.view(), 64, 32, [&](std::size_t r, std::size_t c) {
        double w = values(r, c);
        for (int level = 0; level < 24; ++level) w = w * w + w;
        return reference{w, 1e-12 * std::abs(w)};
    });
}
