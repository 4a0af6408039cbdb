// grad: every node kind, every op of ops/ and the blocks pass the finite-difference check.
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using etna::testing::random_tensor;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto p = input<"p", PerToken>;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto m = mask<"m">;
constexpr auto s = scalar<"s">;

// Data away from the kinks of max, relu and comparisons, so that the central difference does not
// straddle one (a step of 1e-5 would have to land within 1e-5 of a tie).
struct data {
    tensor<double> X = random_tensor(9, 13, 1);
    tensor<double> Y = random_tensor(9, 13, 2);
    tensor<double> P = random_tensor(9, 1, 3);
    tensor<double> G = random_tensor(1, 13, 4, 1.0, 0.5);
    tensor<double> B = random_tensor(1, 13, 5);
    tensor<double> M = [] {
        tensor<double> t(9, 1);
        for (std::size_t i = 0; i < 9; ++i) t.data()[i] = i % 4 == 1 ? 0.0 : 1.0;
        return t;
    }();
};

void require_passes(const gradient_check_result& r) {
    INFO(r.report);
    REQUIRE(r.passed);
}

}  // namespace

TEST_CASE("every primitive's adjoint passes the finite-difference check", "[grad]") {
    const data d;
    const auto check = [&](auto out) { require_passes(check_gradient(out, wrt(x, y), x = d.X, y = d.Y)); };
    check(x + y);
    check(x - y);
    check(x * y);
    check(x / (constant<2.0> + y * y));
    check(-x * y);
    check(exp(x) * y);
    check(log(constant<1.0> + x * x) + y);
    check(sqrt(constant<1.0> + x * x) * y);
    check(rsqrt(constant<1.0> + x * x) * y);
    check(tanh(x) * y);
    check(erf(x) * y);
    check(max(x, y) * y);
    check(greater(x, y) * x + y);
    check(select(greater(x, y), x * x, y * x));
}

TEST_CASE("adjoints of broadcast operands are sums over the axes they are broadcast along", "[grad]") {
    const data d;
    require_passes(check_gradient(x * g + b, wrt(x, g, b), x = d.X, g = d.G, b = d.B));
    require_passes(check_gradient(x * p + p * p, wrt(x, p), x = d.X, p = d.P));
    require_passes(check_gradient(x * s + s, wrt(x, s), x = d.X, s = 0.75));
    require_passes(check_gradient(sum_f(x * x) * p, wrt(x, p), x = d.X, p = d.P));
    require_passes(check_gradient(sum_t(x * x) * g, wrt(x, g), x = d.X, g = d.G));
    require_passes(check_gradient(mean_t(x * x, m) * g, wrt(x, g), x = d.X, g = d.G, m = d.M));
    require_passes(check_gradient(sum_t(sum_f(x * g)) * s, wrt(x, g, s), x = d.X, g = d.G, s = 1.5));
}

TEST_CASE("every op of ops/ passes the finite-difference check", "[grad]") {
    const data d;
    require_passes(check_gradient(layer_norm(x, g, b), wrt(x, g, b), x = d.X, g = d.G, b = d.B));
    require_passes(check_gradient(rms_norm(x, g), wrt(x, g), x = d.X, g = d.G));
    require_passes(check_gradient(batch_norm(x, g, b), wrt(x, g, b), x = d.X, g = d.G, b = d.B));
    require_passes(check_gradient(batch_norm_masked(x, m, g, b), wrt(x, g, b), x = d.X, g = d.G, b = d.B, m = d.M));
    require_passes(check_gradient(gelu(x) * y, wrt(x), x = d.X, y = d.Y));
    require_passes(check_gradient(gelu_tanh(x) * y, wrt(x), x = d.X, y = d.Y));
    require_passes(check_gradient(silu(x) * y, wrt(x), x = d.X, y = d.Y));
    require_passes(check_gradient(sigmoid(x) * y, wrt(x), x = d.X, y = d.Y));
    require_passes(check_gradient(relu(x) * y, wrt(x), x = d.X, y = d.Y));
    require_passes(check_gradient(square(x) * y, wrt(x), x = d.X, y = d.Y));
}

TEST_CASE("pre-norm and post-norm blocks with pointwise sublayers pass the finite-difference check", "[grad]") {
    const data d;
    constexpr auto ln = [](auto v) { return layer_norm(v, g, b); };
    constexpr auto rms = [](auto v) { return rms_norm(v, g); };
    constexpr auto ff = [](auto h) { return gelu(h); };
    require_passes(check_gradient(pre_norm(x, ln, ff), wrt(x, g, b), x = d.X, g = d.G, b = d.B));
    require_passes(check_gradient(post_norm(x, ln, ff), wrt(x, g, b), x = d.X, g = d.G, b = d.B));
    require_passes(check_gradient(pre_norm(pre_norm(x, rms, ff), rms, [](auto h) { return silu(h); }), wrt(x, g),
                                  x = d.X, g = d.G));
    require_passes(check_gradient(residual(x, [](auto v) { return tanh(v); }), wrt(x), x = d.X));
}

TEST_CASE("several outputs, a scalar loss and unused leaves", "[grad]") {
    const data d;
    constexpr auto stream = x + y;
    require_passes(check_gradient(outputs(stream, layer_norm(stream, g, b)), wrt(x, y, g, b), x = d.X, y = d.Y,
                                  g = d.G, b = d.B));
    require_passes(check_gradient(sum_t(sum_f(square(layer_norm(x, g, b) - y))), wrt(x, g, b), x = d.X, y = d.Y,
                                  g = d.G, b = d.B));
    // The gradient of a leaf the output does not read is zero, of the leaf's shape.
    const auto [dx, dy] = interpret<double>(grad(x * x, wrt(x, y)), x = d.X, y = d.Y, input<"dy"> = d.Y);
    REQUIRE(dy.rows() == 9);
    REQUIRE(dy.cols() == 13);
    for (std::size_t i = 0; i < dy.size(); ++i) REQUIRE(dy.data()[i] == 0.0);
    REQUIRE(dx.data()[0] == 2 * d.X.data()[0] * d.Y.data()[0]);
}

TEST_CASE("the check fails where the difference and the derived gradient disagree", "[grad]") {
    // So that a passing check means something: with a step so large that the central difference
    // of exp is visibly off, and at a jump (greater), whose derived gradient is 0.
    const data d;
    gradient_check_options strict;
    strict.tolerance = 1e-12;
    strict.step = 1e-1;  // so large a step that even the fourth-order difference of exp is visibly off
    const auto r = check_gradient(strict, exp(constant<3.0> * x), wrt(x), x = d.X);
    INFO(r.report);
    REQUIRE_FALSE(r.passed);
    REQUIRE(r.worst_error > 1e-6);

    gradient_check_options across_jumps;
    across_jumps.step = 1.0;
    const auto jump = check_gradient(across_jumps, greater(x, constant<0.0>) * y, wrt(x), x = d.X, y = d.Y);
    INFO(jump.report);
    REQUIRE_FALSE(jump.passed);
}

TEST_CASE("derived gradients compile to kernels that equal the interpreter", "[grad]") {
    const data d;
    constexpr auto dln = grad(layer_norm(x, g, b), wrt(x, g, b));
    const tensor<double> DY = random_tensor(9, 13, 6);
    auto k = compile(dln);
    const auto [kx, kg, kb] = k(x = d.X, g = d.G, input<"dy"> = DY);
    const auto [ix, ig, ib] = interpret<double>(dln, x = d.X, g = d.G, input<"dy"> = DY);
    for (std::size_t i = 0; i < ix.size(); ++i) REQUIRE(kx.data()[i] == Approx(ix.data()[i]).margin(1e-13));
    for (std::size_t i = 0; i < ig.size(); ++i) REQUIRE(kg.data()[i] == Approx(ig.data()[i]).margin(1e-13));
    for (std::size_t i = 0; i < ib.size(); ++i) REQUIRE(kb.data()[i] == Approx(ib.data()[i]).margin(1e-13));

    // In float against the double interpreter on the same (rounded) data.
    const auto to_float = [](const tensor<double>& t) { return tensor<float>::copy_of(t.view()); };
    const tensor<float> Xf = to_float(d.X), Gf = to_float(d.G), DYf = to_float(DY);
    const auto [fx, fg, fb] = k(x = Xf, g = Gf, input<"dy"> = DYf);
    const tensor<double> Xr = tensor<double>::copy_of(Xf.view()), Gr = tensor<double>::copy_of(Gf.view()),
                         DYr = tensor<double>::copy_of(DYf.view());
    const auto [rx, rg, rb] = interpret<double>(dln, x = Xr, g = Gr, input<"dy"> = DYr);
    for (std::size_t i = 0; i < rx.size(); ++i) REQUIRE(fx.data()[i] == Approx(rx.data()[i]).margin(1e-5));
    for (std::size_t i = 0; i < rg.size(); ++i) REQUIRE(fg.data()[i] == Approx(rg.data()[i]).margin(1e-5));
    (void)fb;
    (void)rb;
}
