// check_gradient's step: correct gradients pass on data with a large offset and a small spread,
// and a wrong adjoint rule fails there as on well-scaled data.
#include <cstddef>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using etna::testing::random_tensor;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

// x * x whose adjoint rule is off by 1e-3: 2.002 x d instead of 2 x d. A rule a little wrong, so
// that failing it shows the check resolves a small error in one term of the gradient.
struct square_with_wrong_adjoint : prim::function<"wrong_square"> {
    template <class T>
    static constexpr T apply(T a) { return a * a; }
    static constexpr auto adjoint(auto, auto d, auto, auto a) { return prim::adjoints(d * a * constant<2.002>); }
};

// LayerNorm as ops/layer_norm.hpp writes it, but with the variance's square by the wrong rule.
constexpr auto centred = x - mean_f(x);
constexpr auto wrong_layer_norm =
    centred * rsqrt(mean_f(apply_elementwise<square_with_wrong_adjoint>(centred)) + constant<1e-5>) * g + b;

// Rows of N(mean, spread^2) plus an offset per token (row) or per feature (column).
tensor<double> offset_data(unsigned seed, double mean, double spread, double per_row, double per_column) {
    tensor<double> t = random_tensor(9, 13, seed, 0.0, spread);
    for (std::size_t r = 0; r < t.rows(); ++r)
        for (std::size_t c = 0; c < t.cols(); ++c) t(r, c) += mean + per_row * static_cast<double>(r) + per_column * static_cast<double>(c);
    return t;
}

struct parameters {
    tensor<double> G = random_tensor(1, 13, 4, 1.0, 0.5);
    tensor<double> B = random_tensor(1, 13, 5);
};

}  // namespace

TEST_CASE("a correct LayerNorm gradient passes on data of mean 1e4 and standard deviation 1e-2", "[check_gradient]") {
    // A step relative to the values' magnitude (1e4) would be some 10 standard deviations of a
    // row, far outside where the difference is linear: the error was 2e-2.
    const parameters p;
    for (unsigned seed = 1; seed <= 4; ++seed) {
        const tensor<double> X = offset_data(seed, 1e4, 1e-2, 0, 0);
        gradient_check_options options;
        options.seed = seed;
        const auto r = check_gradient(options, layer_norm(x, g, b), wrt(x, g, b), x = X, g = p.G, b = p.B);
        INFO(r.report);
        CHECK(r.passed);
        CHECK(r.worst_error < 1e-7);  // 10x below the tolerance
    }
}

TEST_CASE("the step follows the spread of a token's row or of a feature's column, whichever is smaller",
          "[check_gradient]") {
    // Tokens 300 apart: the leaf's spread is about 800, a row's 1e-2. Features 300 apart: a
    // BatchNorm varies on the scale of a column's spread.
    const parameters p;
    const tensor<double> rows_apart = offset_data(1, 1e4, 1e-2, 300, 0);
    const auto ln = check_gradient(layer_norm(x, g, b), wrt(x, g, b), x = rows_apart, g = p.G, b = p.B);
    INFO(ln.report);
    CHECK(ln.passed);
    const tensor<double> columns_apart = offset_data(2, 1e4, 1e-2, 0, 300);
    const auto bn = check_gradient(batch_norm(x, g, b), wrt(x, g, b), x = columns_apart, g = p.G, b = p.B);
    INFO(bn.report);
    CHECK(bn.passed);
    const tensor<double> offset = offset_data(3, 1e4, 1e-2, 0, 0);
    const auto pre = check_gradient(pre_norm(x, [](auto v) { return layer_norm(v, g, b); }, [](auto h) { return gelu(h); }),
                                    wrt(x, g, b), x = offset, g = p.G, b = p.B);
    INFO(pre.report);
    CHECK(pre.passed);
}

TEST_CASE("a wrong adjoint rule fails, on well-scaled data and on data of mean 1e4 and spread 1e-2",
          "[check_gradient]") {
    const parameters p;
    const tensor<double> well_scaled = random_tensor(9, 13, 1);
    const tensor<double> offset = offset_data(1, 1e4, 1e-2, 0, 0);
    for (const tensor<double>* X : {&well_scaled, &offset}) {
        // The same composition with the true square passes: the failure is the rule's.
        const auto right = check_gradient(layer_norm(x, g, b), wrt(x, g, b), x = *X, g = p.G, b = p.B);
        INFO(right.report);
        CHECK(right.passed);
        const auto wrong = check_gradient(wrong_layer_norm, wrt(x, g, b), x = *X, g = p.G, b = p.B);
        INFO(wrong.report);
        CHECK_FALSE(wrong.passed);
        CHECK(wrong.worst_error > 10 * gradient_check_options{}.tolerance);
        // Differentiating only gamma, whose gradient does not pass through the square, passes.
        CHECK(check_gradient(wrong_layer_norm, wrt(g, b), x = *X, g = p.G, b = p.B).passed);
    }
}
