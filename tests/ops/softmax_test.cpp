// softmax, log_softmax and softmax_cross_entropy: against closed forms, fused in float with
// logits far beyond exp's range, and their derived gradients against finite differences.
#include <cmath>
#include <cstddef>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto target = input<"target">;
constexpr auto both = outputs(softmax(x), log_softmax(x));

// Per row: softmax and log softmax in long double, shifted by the row's maximum.
struct reference {
    std::vector<long double> p, log_p;
};
reference reference_of(const tensor<double>& X, std::size_t t) {
    long double m = X(t, 0);
    for (std::size_t j = 1; j < X.cols(); ++j) m = std::max<long double>(m, X(t, j));
    long double sum = 0;
    for (std::size_t j = 0; j < X.cols(); ++j) sum += std::exp(static_cast<long double>(X(t, j)) - m);
    reference r;
    for (std::size_t j = 0; j < X.cols(); ++j) {
        r.log_p.push_back(static_cast<long double>(X(t, j)) - m - std::log(sum));
        r.p.push_back(std::exp(r.log_p.back()));
    }
    return r;
}

}  // namespace

TEST_CASE("softmax and log_softmax: each row a distribution, in float as in double, for any finite logits", "[softmax]") {
    // Rows of ordinary logits, of logits spread by thousands (exp of the raw values overflows
    // float and double), and of equal logits.
    tensor<double> X = testing::random_tensor<double>(6, 37, 11, 0.0, 3.0);
    for (std::size_t j = 0; j < X.cols(); ++j) {
        X(3, j) = 1000.0 * static_cast<double>(j % 5) - 2500.0;
        X(4, j) = -1e4 + static_cast<double>(j);
        X(5, j) = 42.0;
    }
    auto kernel = compile(both);
    const auto [p, log_p] = kernel(x = X);
    const tensor<float> Xf = tensor<float>::copy_of(X.view());
    const auto [pf, log_pf] = kernel(x = Xf);
    for (std::size_t t = 0; t < X.rows(); ++t) {
        const reference r = reference_of(X, t);
        double sum = 0;
        for (std::size_t j = 0; j < X.cols(); ++j) {
            sum += p(t, j);
            CHECK(std::abs(p(t, j) - static_cast<double>(r.p[j])) <= 1e-15 + 1e-14 * static_cast<double>(r.p[j]));
            CHECK(std::abs(log_p(t, j) - static_cast<double>(r.log_p[j])) <= 1e-12 * (1 + std::abs(static_cast<double>(r.log_p[j]))));
            CHECK(std::isfinite(pf(t, j)));
            CHECK(std::abs(pf(t, j) - static_cast<double>(r.p[j])) <= 1e-6 * (1e-30 + static_cast<double>(r.p[j])) + 1e-7);
            // Float log_softmax of a logit 1e4 below the maximum: about -1e4, to float rounding.
            CHECK(std::abs(log_pf(t, j) - static_cast<double>(r.log_p[j])) <= 1e-6 * (1 + std::abs(static_cast<double>(r.log_p[j]))));
        }
        CHECK(sum == Approx(1.0).epsilon(1e-14));
    }
    CHECK(p(5, 0) == Approx(1.0 / 37));
}

TEST_CASE("softmax and log_softmax: derived gradients pass finite differences", "[softmax]") {
    const auto X = testing::random_tensor<double>(5, 11, 12);
    const auto Y = testing::random_tensor<double>(5, 11, 13);
    CHECK(check_gradient(softmax(x) * target, wrt(x), x = X, target = Y).passed);
    CHECK(check_gradient(log_softmax(x), wrt(x), x = X).passed);
}

TEST_CASE("softmax_cross_entropy: finite in float when a token's logits spread far beyond 88", "[softmax]") {
    // Logits that spread 400 around their mean: with the mean subtracted (the old form) exp
    // overflowed float and the loss was inf; with the maximum subtracted it is finite.
    tensor<double> logits(4, 8);
    tensor<double> onehot(4, 8);
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t j = 0; j < 8; ++j) {
            logits(t, j) = j == t ? 400.0 : -400.0 + static_cast<double>(j);
            onehot(t, j) = j == (t + 1) % 8 ? 1.0 : 0.0;
        }
    constexpr auto loss = softmax_cross_entropy(x, target);
    const tensor<double> in_double = interpret<double>(loss, x = logits, target = onehot);
    auto kernel = compile(loss);
    const tensor<float> logits_f = tensor<float>::copy_of(logits.view());
    const tensor<float> onehot_f = tensor<float>::copy_of(onehot.view());
    const tensor<float> in_float = kernel(x = logits_f, target = onehot_f);
    // Each token's loss: the true class is 800 - (t + 1) below the maximum (~ 800 - t - 1 nats).
    double expected = 0;
    for (std::size_t t = 0; t < 4; ++t) expected += 800.0 - static_cast<double>((t + 1) % 8);
    expected /= 4;
    CHECK(in_double(0, 0) == Approx(expected).epsilon(1e-12));
    CHECK(std::isfinite(in_float(0, 0)));
    CHECK(in_float(0, 0) == Approx(expected).epsilon(1e-6));
    const auto [dlogits] = interpret<double>(grad(loss, wrt(x)), x = logits, target = onehot);
    CHECK(std::isfinite(dlogits(0, 0)));
    tensor<double> classes(6, 5);
    for (std::size_t t = 0; t < 6; ++t) classes(t, (3 * t) % 5) = 1.0;
    const tensor<double> spread = testing::random_tensor<double>(6, 5, 3, 0.0, 4.0);
    CHECK(check_gradient(loss, wrt(x), x = spread, target = classes).passed);
}
