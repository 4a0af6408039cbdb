// Peer: Eigen, row-wise. Every graph of bench/workload.hpp, every pass, written as an Eigen user
// writes a norm: the token rows split over `#pragma omp parallel for num_threads(threads)`, and
// inside, each row an Eigen array expression over a row of a
// Map<Matrix<float, Dynamic, Dynamic, RowMajor>> (contiguous, so Eigen vectorizes it). A row
// expression that is read more than once (the mean, then the variance, then the output) is
// evaluated again from the row, which is in cache by then; nothing of T x D is written but the
// outputs. Per-feature sums over the tokens (dg, db, BatchNorm's statistics) go to a partial sum
// per thread, added up after the loop.
//
// Saved for the backward (the forward writes them, the bwd pass reads them): LayerNorm's row
// mean and rstd, RMSNorm's row rstd, BatchNorm's feature mean and rstd and the mask count. The
// backwards recompute the rest from the inputs (post_norm_gelu: x + gelu(x) again from x).
//
// Threads: num_threads(threads) on every parallel loop; Eigen's own threading is off
// (EIGEN_DONT_PARALLELIZE; it only ever threads products, which none of this uses).
//
// g++ 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (the _mm512_undefined_ps
// operand of the masked forms) wherever Eigen's vectorized erf, exp, min, max or sqrt are
// inlined under -march=native: a compiler false positive (GCC PR 105593), and -Werror is on.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>  // ArrayBase::erf, vectorized for float

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../workload.hpp"

namespace {

using bench::graph;
using bench::pass;

using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using rows = Eigen::Map<matrix>;
using const_rows = Eigen::Map<const matrix>;
using vector = Eigen::Map<Eigen::Array<float, 1, Eigen::Dynamic>>;
using const_vector = Eigen::Map<const Eigen::Array<float, 1, Eigen::Dynamic>>;

constexpr float eps = 1e-5f;
constexpr float sqrt1_2 = 0.70710678118654752f;     // 1 / sqrt(2)
constexpr float inv_sqrt_2pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)

// One benchmark's arrays, each allocated and filled (so its pages touched) once, before timing.
// An array the graph and pass do not use stays empty.
struct problem {
    graph gr;
    std::ptrdiff_t T, D;
    int threads;
    // inputs
    std::vector<float> x, r, g, b, mask, dy, ds;
    // outputs
    std::vector<float> y, s, dx, dg, db;
    // saved by the forward for the backward: per token (mean, rstd) or per feature (mean, rstd)
    std::vector<float> mean, rstd;
    float count = 0;  // BatchNorm: the unmasked tokens
    // per thread: a row of scratch (post_norm_gelu's x + gelu(x)) and partial per-feature sums
    std::vector<float> scratch, partial_a, partial_b;

    problem(graph gr_, bench::shape sh, int threads_, bool backward)
        : gr(gr_), T(static_cast<std::ptrdiff_t>(sh.tokens)), D(static_cast<std::ptrdiff_t>(sh.features)),
          threads(threads_) {
        const std::size_t acts = sh.tokens * sh.features;
        const bool add = gr == graph::add_layer_norm, bn = gr == graph::batch_norm_masked;
        x = bench::filled(acts, bench::seed_of("x"));
        if (add) r = bench::filled(acts, bench::seed_of("r"));
        g = bench::filled(sh.features, bench::seed_of("g"));
        if (gr != graph::rms_norm) b = bench::filled(sh.features, bench::seed_of("b"));
        if (bn) mask = bench::mask_of(sh.tokens);
        y.assign(acts, 0.0f);
        if (add) s.assign(acts, 0.0f);
        const std::size_t stats = bn ? sh.features : sh.tokens;
        mean.assign(stats, 0.0f);
        rstd.assign(stats, 0.0f);
        scratch.assign(static_cast<std::size_t>(threads) * sh.features, 0.0f);
        partial_a.assign(static_cast<std::size_t>(threads) * sh.features, 0.0f);
        partial_b.assign(static_cast<std::size_t>(threads) * sh.features, 0.0f);
        if (backward) {
            dy = bench::filled(acts, bench::seed_of("dy"));
            if (add) ds = bench::filled(acts, bench::seed_of("ds"));
            dx.assign(acts, 0.0f);
            dg.assign(sh.features, 0.0f);
            if (gr != graph::rms_norm) db.assign(sh.features, 0.0f);
        }
    }

    rows act(std::vector<float>& v) { return rows(v.data(), T, D); }
    const_rows act(const std::vector<float>& v) const { return const_rows(v.data(), T, D); }
    vector feat(std::vector<float>& v) { return vector(v.data(), D); }
    const_vector feat(const std::vector<float>& v) const { return const_vector(v.data(), D); }
    vector part(std::vector<float>& v, int thread) { return vector(v.data() + thread * D, D); }

    // The per-thread partial sums, zeroed before a loop and added up after it.
    void clear_partials() {
        std::fill(partial_a.begin(), partial_a.end(), 0.0f);
        std::fill(partial_b.begin(), partial_b.end(), 0.0f);
    }
    void sum_partials(std::vector<float>& v, int thread_count, std::vector<float>& into) {
        auto out = feat(into);
        out = part(v, 0);
        for (int t = 1; t < thread_count; ++t) out += part(v, t);
    }

    void forward() {
        switch (gr) {
            case graph::layer_norm: return layer_norm_forward();
            case graph::add_layer_norm: return add_layer_norm_forward();
            case graph::post_norm_gelu: return post_norm_gelu_forward();
            case graph::rms_norm: return rms_norm_forward();
            case graph::batch_norm_masked: return batch_norm_forward();
            case graph::custom_norm: break;  // etna only: never registered here
        }
    }
    void backward() {
        switch (gr) {
            case graph::layer_norm: return layer_norm_backward(x);
            case graph::add_layer_norm: return layer_norm_backward(s);
            case graph::post_norm_gelu: return post_norm_gelu_backward();
            case graph::rms_norm: return rms_norm_backward();
            case graph::batch_norm_masked: return batch_norm_backward();
            case graph::custom_norm: break;  // etna only: never registered here
        }
    }

    // y = LN(x) row by row, saving each row's mean and rstd.
    void layer_norm_forward() {
        const auto X = act(x);
        auto Y = act(y);
        const auto G = feat(g), B = feat(b);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const auto row = X.row(t).array();
            const float mu = row.mean();
            const float rs = 1.0f / std::sqrt((row - mu).square().mean() + eps);
            Y.row(t).array() = (row - mu) * rs * G + B;
            mean[t] = mu;
            rstd[t] = rs;
        }
    }

    // s = r + x, then y = LN(s), each row of s normalized while it is in cache.
    void add_layer_norm_forward() {
        const auto R = act(r), X = act(x);
        auto S = act(s), Y = act(y);
        const auto G = feat(g), B = feat(b);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            S.row(t) = R.row(t) + X.row(t);
            const auto row = S.row(t).array();
            const float mu = row.mean();
            const float rs = 1.0f / std::sqrt((row - mu).square().mean() + eps);
            Y.row(t).array() = (row - mu) * rs * G + B;
            mean[t] = mu;
            rstd[t] = rs;
        }
    }

    // u = x + gelu(x) into a row of scratch, then y = LN(u).
    void post_norm_gelu_forward() {
        const auto X = act(x);
        auto Y = act(y);
        const auto G = feat(g), B = feat(b);
#pragma omp parallel num_threads(threads)
        {
            auto u = part(scratch, omp_get_thread_num());
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t) {
                const auto xr = X.row(t).array();
                u = xr + 0.5f * xr * (1.0f + (xr * sqrt1_2).erf());
                const float mu = u.mean();
                const float rs = 1.0f / std::sqrt((u - mu).square().mean() + eps);
                Y.row(t).array() = (u - mu) * rs * G + B;
                mean[t] = mu;
                rstd[t] = rs;
            }
        }
    }

    // LayerNorm's backward from the saved row statistics, of in = x (layer_norm) or s
    // (add_layer_norm, whose dx adds ds: dr equals dx).
    void layer_norm_backward(const std::vector<float>& normalized) {
        const auto in = act(normalized);
        const auto DY = act(dy), DS = act(ds);
        auto DX = act(dx);
        const auto G = feat(g);
        const bool add = gr == graph::add_layer_norm;
        clear_partials();
#pragma omp parallel num_threads(threads)
        {
            const int thread = omp_get_thread_num();
            auto dg_part = part(partial_a, thread), db_part = part(partial_b, thread);
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t) {
                const float rs = rstd[t];
                const auto xhat = (in.row(t).array() - mean[t]) * rs;
                const auto dyr = DY.row(t).array();
                const auto dxhat = dyr * G;
                const float c1 = (dxhat * xhat).mean();
                const float c2 = dxhat.mean();
                if (add)
                    DX.row(t).array() = rs * (dxhat - xhat * c1 - c2) + DS.row(t).array();
                else
                    DX.row(t).array() = rs * (dxhat - xhat * c1 - c2);
                dg_part += dyr * xhat;
                db_part += dyr;
            }
        }
        sum_partials(partial_a, threads, dg);
        sum_partials(partial_b, threads, db);
    }

    // u = x + gelu(x) recomputed into scratch; du = LN's backward; dx = du * (1 + gelu'(x)),
    // gelu'(x) = Phi(x) + x phi(x).
    void post_norm_gelu_backward() {
        const auto X = act(x), DY = act(dy);
        auto DX = act(dx);
        const auto G = feat(g);
        clear_partials();
#pragma omp parallel num_threads(threads)
        {
            const int thread = omp_get_thread_num();
            auto u = part(scratch, thread);
            auto dg_part = part(partial_a, thread), db_part = part(partial_b, thread);
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t) {
                const auto xr = X.row(t).array();
                u = xr + 0.5f * xr * (1.0f + (xr * sqrt1_2).erf());
                const float rs = rstd[t];
                const auto uhat = (u - mean[t]) * rs;
                const auto dyr = DY.row(t).array();
                const auto dxhat = dyr * G;
                const float c1 = (dxhat * uhat).mean();
                const float c2 = dxhat.mean();
                DX.row(t).array() = rs * (dxhat - uhat * c1 - c2) *
                                    (1.5f + 0.5f * (xr * sqrt1_2).erf() +
                                     xr * inv_sqrt_2pi * (-0.5f * xr.square()).exp());
                dg_part += dyr * uhat;
                db_part += dyr;
            }
        }
        sum_partials(partial_a, threads, dg);
        sum_partials(partial_b, threads, db);
    }

    // y = x * rsqrt(mean(x^2) + eps) * g, saving each row's rstd.
    void rms_norm_forward() {
        const auto X = act(x);
        auto Y = act(y);
        const auto G = feat(g);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const auto row = X.row(t).array();
            const float rs = 1.0f / std::sqrt(row.square().mean() + eps);
            Y.row(t).array() = row * rs * G;
            rstd[t] = rs;
        }
    }

    // dx = rs (dxhat - xhat mean(dxhat xhat)), xhat = x rs, dxhat = dy g; dg = sum dy xhat.
    void rms_norm_backward() {
        const auto X = act(x), DY = act(dy);
        auto DX = act(dx);
        const auto G = feat(g);
        clear_partials();
#pragma omp parallel num_threads(threads)
        {
            auto dg_part = part(partial_a, omp_get_thread_num());
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t) {
                const float rs = rstd[t];
                const auto xhat = X.row(t).array() * rs;
                const auto dyr = DY.row(t).array();
                const auto dxhat = dyr * G;
                const float c = (dxhat * xhat).mean();
                DX.row(t).array() = rs * (dxhat - xhat * c);
                dg_part += dyr * xhat;
            }
        }
        sum_partials(partial_a, threads, dg);
    }

    // Per feature over the unmasked tokens: the mean (one pass), the variance of the centred
    // values (a second pass), then every token normalized (a third).
    void batch_norm_forward() {
        const auto X = act(x);
        auto Y = act(y);
        const auto G = feat(g), B = feat(b);
        auto MU = feat(mean), RS = feat(rstd);
        clear_partials();
        float masked = 0;
#pragma omp parallel num_threads(threads) reduction(+ : masked)
        {
            auto sum_part = part(partial_a, omp_get_thread_num());
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t)
                if (mask[t] != 0.0f) {
                    sum_part += X.row(t).array();
                    masked += 1.0f;
                }
        }
        count = masked;
        sum_partials(partial_a, threads, mean);
        MU /= count;
#pragma omp parallel num_threads(threads)
        {
            auto var_part = part(partial_b, omp_get_thread_num());
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t)
                if (mask[t] != 0.0f) var_part += (X.row(t).array() - MU).square();
        }
        sum_partials(partial_b, threads, rstd);
        RS = (RS / count + eps).rsqrt();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t t = 0; t < T; ++t) Y.row(t).array() = (X.row(t).array() - MU) * RS * G + B;
    }

    // db = sum dy, dg = sum dy xhat (over every token); with A = g db and B = g dg,
    // dx = rstd (g dy - m / count (A + xhat B)).
    void batch_norm_backward() {
        const auto X = act(x), DY = act(dy);
        auto DX = act(dx);
        const auto G = feat(g), MU = feat(mean), RS = feat(rstd);
        clear_partials();
#pragma omp parallel num_threads(threads)
        {
            const int thread = omp_get_thread_num();
            auto dg_part = part(partial_a, thread), db_part = part(partial_b, thread);
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < T; ++t) {
                const auto dyr = DY.row(t).array();
                dg_part += dyr * (X.row(t).array() - MU) * RS;
                db_part += dyr;
            }
        }
        sum_partials(partial_a, threads, dg);
        sum_partials(partial_b, threads, db);
        // A and B, scaled by 1 / count, in the partials (no longer needed).
        auto A = part(partial_a, 0), Bv = part(partial_b, 0);
        A = G * feat(db) / count;
        Bv = G * feat(dg) / count;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const auto xhat = (X.row(t).array() - MU) * RS;
            if (mask[t] != 0.0f)
                DX.row(t).array() = RS * (G * DY.row(t).array() - A - xhat * Bv);
            else
                DX.row(t).array() = RS * G * DY.row(t).array();
        }
    }
};

void run(graph gr, pass p, benchmark::State& state, bench::shape sh, int threads) {
    problem c(gr, sh, threads, p != pass::fwd);
    const std::size_t bytes = bench::minimal(gr, p).bytes(sh);
    bench::measure_pass(state, p, bytes, c);
}

const int registered = [] {
    for (const graph gr : {graph::layer_norm, graph::rms_norm, graph::add_layer_norm, graph::post_norm_gelu,
                           graph::batch_norm_masked})
        for (const pass p : {pass::fwd, pass::bwd, pass::train})
            bench::add(gr, p, "eigen",
                       [gr, p](benchmark::State& state, bench::shape sh, int threads) { run(gr, p, state, sh, threads); });
    return 0;
}();

}  // namespace
