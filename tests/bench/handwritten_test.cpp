// The handwritten kernels (bench/handwritten.hpp) against etna: every graph of the benchmark
// matrix built in etna, its forward and its derived gradient evaluated by the double interpreter
// on the same (float) data, and the kernels' float results compared element by element.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

#include "handwritten.hpp"

using namespace etna;
using floats = std::vector<float>;

namespace {

constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto pad = mask<"mask">;
constexpr auto ds = input<"ds">;
constexpr auto dy = input<"dy">;

// A small odd shape: rows not a whole number of vectors, tokens not divisible by the threads.
constexpr std::size_t T = 37;
constexpr std::size_t D = 45;
constexpr int thread_counts[] = {1, 2, 3};

// Float data and the same values in double, for etna.
struct data {
    floats values;
    tensor<double> exact;
};

data act_data(unsigned seed, double mean, double stddev, std::size_t rows = T) {
    const tensor<float> f = testing::random_tensor<float>(rows, D, seed, mean, stddev);
    return {floats(f.data(), f.data() + f.size()), tensor<double>::copy_of(f.view())};
}

// Two data sets. Ordinary: N(0, 1). Narrow: x ~ N(0.5, 0.01^2), so that eps (1e-5) is a tenth of
// a row's variance (a wrong or missing eps moves the outputs by 5 %) and the mean must be taken
// out before squaring. Gamma and the seeds are ordinary in both.
struct inputs {
    data x, r, g, b, dy, ds;
    floats mask;
    std::vector<double> mask_exact;
};

inputs make_inputs(bool narrow) {
    inputs in{narrow ? act_data(1, 0.5, 0.01) : act_data(1, 0.0, 1.0),
              narrow ? act_data(2, 0.5, 0.01) : act_data(2, 0.0, 1.0),
              act_data(3, 1.0, 0.5, 1),
              act_data(4, 0.0, 1.0, 1),
              act_data(5, 0.0, 1.0),
              act_data(6, 0.0, 1.0),
              {},
              {}};
    // Padding scattered and at both ends: tokens 0, 36 and every fifth from 3.
    for (std::size_t t = 0; t < T; ++t) {
        const bool padding = t == 0 || t == T - 1 || t % 5 == 3;
        in.mask.push_back(padding ? 0.0f : 1.0f);
        in.mask_exact.push_back(padding ? 0.0 : 1.0);
    }
    return in;
}

// A kernel's float result against etna's double one: |a - e| <= 1e-4 (|e| + max |e|) for every
// element, a relative error of 1e-4 with a floor of 1e-4 of the array's size (for elements that
// cancel to near 0). Measured: at most 0.2 % of that on the ordinary data and 6 % on the narrow
// data (dg, and post_norm_gelu's y), while each of 14 deliberate bugs tried in the kernels (a
// dropped term of a gradient, eps 0, a one-pass variance, the mask ignored, one thread's
// partial sums only, ...) fails it.
void check_close(const std::string& what, const floats& actual, const tensor<double>& expected) {
    INFO(what);
    REQUIRE(actual.size() == expected.size());
    double scale = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) scale = std::max(scale, std::abs(expected.data()[i]));
    double worst = 0;
    std::size_t worst_at = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double e = expected.data()[i];
        const double ratio = std::abs(static_cast<double>(actual[i]) - e) / (1e-4 * (std::abs(e) + scale));
        if (!(ratio <= worst)) {  // NaN included
            worst = ratio;
            worst_at = i;
        }
    }
    INFO("worst element " << worst_at << ": " << actual[worst_at] << " against " << expected.data()[worst_at]
                          << ", " << worst << " of the tolerance");
    CHECK(worst <= 1.0);
}

struct act_out {
    floats y = floats(T * D), s = floats(T * D), dx = floats(T * D), dg = floats(D), db = floats(D);
    floats mean = floats(T), rstd = floats(T);  // per token (LayerNorm, RMSNorm) or per feature (BatchNorm)
};

// y, dx, dg and db of a kernel of y(x, g, b) against etna's forward and derived gradient, in double.
template <class Y>
void check_against_etna(const act_out& o, Y y, const inputs& in) {
    check_close("y", o.y, interpret<double>(y, x = in.x.exact, g = in.g.exact, b = in.b.exact));
    const auto [dx, dg, db] = interpret<double>(grad(y, wrt(x, g, b)), x = in.x.exact, g = in.g.exact, dy = in.dy.exact);
    check_close("dx", o.dx, dx);
    check_close("dg", o.dg, dg);
    check_close("db", o.db, db);
}

template <class Each>
void for_each_case(Each each) {
    for (const bool narrow : {false, true})
        for (const int threads : thread_counts) {
            CAPTURE(narrow, threads);
            each(make_inputs(narrow), threads);
        }
}

}  // namespace

TEST_CASE("handwritten layer_norm equals etna's forward and derived gradient", "[handwritten]") {
    constexpr auto y = layer_norm(x, g, b);
    for_each_case([&](const inputs& in, int threads) {
        const handwritten::workspace work(threads, D);
        act_out o;
        handwritten::layer_norm_fwd(in.x.values.data(), in.g.values.data(), in.b.values.data(), o.y.data(), o.mean.data(),
                                    o.rstd.data(), T, D, threads);
        handwritten::layer_norm_bwd(in.x.values.data(), in.g.values.data(), in.dy.values.data(), o.mean.data(),
                                    o.rstd.data(), o.dx.data(), o.dg.data(), o.db.data(), T, D, threads, work);
        check_against_etna(o, y, in);
    });
}

TEST_CASE("handwritten rms_norm equals etna's forward and derived gradient", "[handwritten]") {
    constexpr auto y = rms_norm(x, g);
    for_each_case([&](const inputs& in, int threads) {
        const handwritten::workspace work(threads, D);
        act_out o;
        handwritten::rms_norm_fwd(in.x.values.data(), in.g.values.data(), o.y.data(), o.rstd.data(), T, D, threads);
        handwritten::rms_norm_bwd(in.x.values.data(), in.g.values.data(), in.dy.values.data(), o.rstd.data(), o.dx.data(),
                                  o.dg.data(), T, D, threads, work);
        check_close("y", o.y, interpret<double>(y, x = in.x.exact, g = in.g.exact));
        const auto [dx, dg] = interpret<double>(grad(y, wrt(x, g)), x = in.x.exact, g = in.g.exact, dy = in.dy.exact);
        check_close("dx", o.dx, dx);
        check_close("dg", o.dg, dg);
    });
}

TEST_CASE("handwritten add_layer_norm equals etna's forward and derived gradient (dx = dr)", "[handwritten]") {
    constexpr auto stream = r + x;
    constexpr auto both = outputs(stream, layer_norm(stream, g, b));
    for_each_case([&](const inputs& in, int threads) {
        const handwritten::workspace work(threads, D);
        act_out o;
        handwritten::add_layer_norm_fwd(in.r.values.data(), in.x.values.data(), in.g.values.data(), in.b.values.data(),
                                        o.s.data(), o.y.data(), o.mean.data(), o.rstd.data(), T, D, threads);
        handwritten::add_layer_norm_bwd(o.s.data(), in.g.values.data(), in.ds.values.data(), in.dy.values.data(),
                                        o.mean.data(), o.rstd.data(), o.dx.data(), o.dg.data(), o.db.data(), T, D, threads,
                                        work);
        const auto [s, y] = interpret<double>(both, r = in.r.exact, x = in.x.exact, g = in.g.exact, b = in.b.exact);
        check_close("s", o.s, s);
        check_close("y", o.y, y);
        const auto [dr, dx, dg, db] = interpret<double>(grad(both, wrt(r, x, g, b), seeds(ds, dy)), r = in.r.exact,
                                                        x = in.x.exact, g = in.g.exact, ds = in.ds.exact, dy = in.dy.exact);
        check_close("dr", o.dx, dr);
        check_close("dx", o.dx, dx);
        check_close("dg", o.dg, dg);
        check_close("db", o.db, db);
    });
}

TEST_CASE("handwritten post_norm_gelu equals etna's forward and derived gradient", "[handwritten]") {
    constexpr auto y = layer_norm(x + gelu(x), g, b);
    for_each_case([&](const inputs& in, int threads) {
        const handwritten::workspace work(threads, D);
        act_out o;
        handwritten::post_norm_gelu_fwd(in.x.values.data(), in.g.values.data(), in.b.values.data(), o.y.data(),
                                        o.mean.data(), o.rstd.data(), T, D, threads);
        handwritten::post_norm_gelu_bwd(in.x.values.data(), in.g.values.data(), in.dy.values.data(), o.mean.data(),
                                        o.rstd.data(), o.dx.data(), o.dg.data(), o.db.data(), T, D, threads, work);
        check_against_etna(o, y, in);
    });
}

TEST_CASE("handwritten batch_norm_masked equals etna's forward and derived gradient", "[handwritten]") {
    constexpr auto y = batch_norm_masked(x, pad, g, b);
    for_each_case([&](const inputs& in, int threads) {
        const handwritten::workspace work(threads, D);
        act_out o;
        o.mean.resize(D);
        o.rstd.resize(D);
        handwritten::batch_norm_masked_fwd(in.x.values.data(), in.mask.data(), in.g.values.data(), in.b.values.data(),
                                           o.y.data(), o.mean.data(), o.rstd.data(), T, D, threads, work);
        handwritten::batch_norm_masked_bwd(in.x.values.data(), in.mask.data(), in.g.values.data(), in.dy.values.data(),
                                           o.mean.data(), o.rstd.data(), o.dx.data(), o.dg.data(), o.db.data(), T, D,
                                           threads, work);
        check_close("y", o.y,
                    interpret<double>(y, x = in.x.exact, pad = in.mask_exact, g = in.g.exact, b = in.b.exact));
        const auto [dx, dg, db] = interpret<double>(grad(y, wrt(x, g, b)), x = in.x.exact, pad = in.mask_exact,
                                                    g = in.g.exact, dy = in.dy.exact);
        check_close("dx", o.dx, dx);
        check_close("dg", o.dg, dg);
        check_close("db", o.db, db);
    });
}

TEST_CASE("handwritten batch_norm_masked never reads padding tokens into its statistics", "[handwritten]") {
    // As etna's mean_t(x, mask) (a select, not a product): NaN in padding rows changes nothing
    // but those rows' own outputs.
    const inputs in = make_inputs(false);
    floats poisoned = in.x.values;
    for (std::size_t t = 0; t < T; ++t)
        if (in.mask[t] == 0.0f) std::fill_n(poisoned.begin() + static_cast<std::ptrdiff_t>(t * D), D, NAN);
    const handwritten::workspace work(2, D);
    const auto forward = [&](const floats& values) {
        act_out o;
        o.mean.resize(D);
        o.rstd.resize(D);
        handwritten::batch_norm_masked_fwd(values.data(), in.mask.data(), in.g.values.data(), in.b.values.data(),
                                           o.y.data(), o.mean.data(), o.rstd.data(), T, D, 2, work);
        return o;
    };
    const act_out clean = forward(in.x.values);
    const act_out dirty = forward(poisoned);
    CHECK(clean.mean == dirty.mean);
    CHECK(clean.rstd == dirty.rstd);
    for (std::size_t t = 0; t < T; ++t)
        if (in.mask[t] == 1.0f)
            for (std::size_t j = 0; j < D; ++j) REQUIRE(clean.y[t * D + j] == dirty.y[t * D + j]);
}

TEST_CASE("the vectorizable erf and exp match the standard library to float accuracy", "[handwritten]") {
    double erf_error = 0;
    double exp_error = 0;
    for (int i = -200000; i <= 200000; ++i) {
        const float v = static_cast<float>(i) * 5e-5f;  // [-10, 10]
        erf_error = std::max(erf_error, std::abs(handwritten::erf(v) - std::erf(static_cast<double>(v))));
        if (v <= 0) {
            const float a = v * 8.5f;  // [-85, 0]
            const double e = std::exp(static_cast<double>(a));
            exp_error = std::max(exp_error, std::abs(handwritten::exp_nonpositive(a) - e) / e);
        }
    }
    CAPTURE(erf_error, exp_error);
    CHECK(erf_error <= 5e-7);  // 4.2e-7 measured: 7 ulp near +-1
    CHECK(exp_error <= 4e-7);  // 2.5e-7 measured: 2 ulp
    CHECK(handwritten::exp_nonpositive(-1000.0f) <= 1e-37f);
    CHECK(handwritten::erf(100.0f) == 1.0f);
}
