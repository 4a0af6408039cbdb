// The expert's kernels for the benchmark matrix (bench/workload.hpp), written by hand as llm.c
// writes them for a CPU: float data and accumulators, OpenMP over tokens, `omp simd` loops over
// features (reductions vectorize without -ffast-math), every row read once from memory (later
// passes over it hit L1). No etna: raw pointers, row-major T x D, and a thread count.
//
// A forward saves what its backward reads (LayerNorm: mean and rstd per token; RMSNorm: rstd;
// BatchNorm: mean and rstd per feature); a backward recomputes everything else. The token-wise
// norms sum their parameter gradients per thread into private rows, merged in thread order
// (reproducible for a given thread count); BatchNorm splits the features between the threads.
#pragma once

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace handwritten {

using std::size_t;

inline constexpr float eps = 1e-5f;
inline constexpr size_t line = 64 / sizeof(float);  // floats per cache line

// Per-thread rows of D floats (partial parameter gradients, BatchNorm's column statistics, a
// scratch row), each on cache lines of its own so that threads never write to a shared line. Allocated
// and touched once, outside any timed call.
class workspace {
public:
    static constexpr size_t rows_per_thread = 3;

    workspace(int threads, size_t features)
        : threads_(threads), stride_((features + line - 1) / line * line),
          data_(static_cast<float*>(std::aligned_alloc(64, sizeof(float) * size()))) {
        if (!data_) throw std::bad_alloc();
        std::fill_n(data_.get(), size(), 0.0f);
    }

    [[nodiscard]] int threads() const { return threads_; }
    [[nodiscard]] float* row(int thread, size_t r) const {
        return data_.get() + (static_cast<size_t>(thread) * rows_per_thread + r) * stride_;
    }
    // Kernels use threads <= threads(): more would write past the rows.
    void check(int threads) const {
        if (threads < 1 || threads > threads_) throw std::invalid_argument("handwritten: workspace sized for fewer threads");
    }

private:
    struct free_deleter {
        void operator()(float* p) const { std::free(p); }
    };
    [[nodiscard]] size_t size() const { return static_cast<size_t>(std::max(threads_, 1)) * rows_per_thread * stride_; }

    int threads_;
    size_t stride_;
    std::unique_ptr<float, free_deleter> data_;
};

// Part k of n of [0, count), cut at whole cache lines (no line is written by two threads).
inline std::pair<size_t, size_t> part(size_t count, int k, int n) {
    const size_t lines = (count + line - 1) / line;
    const auto at = [&](int i) { return std::min(lines * static_cast<size_t>(i) / static_cast<size_t>(n) * line, count); };
    return {at(k), at(k + 1)};
}

// --- Vectorizable erf and exp: without -ffast-math std::erf and std::exp are scalar calls, the
// whole cost of a GELU row. Float accuracy: erf within 4.2e-7 absolute, exp within 2.5e-7 relative.

// Rational approximation x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float beyond), as Eigen's
// and XLA's float erf.
inline float erf(float a) {
    const float x = a > 4.0f ? 4.0f : (a < -4.0f ? -4.0f : a);
    const float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p - 2.10102402082508e-06f;
    p = x2 * p - 5.69250639462346e-05f;
    p = x2 * p - 7.34990630326855e-04f;
    p = x2 * p - 2.95459980854025e-03f;
    p = x2 * p - 1.60960333262415e-02f;
    float q = x2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
    q = x2 * q - 1.68282697438203e-03f;
    q = x2 * q - 7.37332916720468e-03f;
    q = x2 * q - 1.42647390514189e-02f;
    return x * p / q;
}

// e^v for v <= 0: 2^n e^r with n = round(v / ln 2) (the 1.5 * 2^23 shift rounds, exactly as
// written without -ffast-math), r by Cody-Waite, e^r by its degree-6 Taylor polynomial
// (|r| <= ln 2 / 2). v is clamped at -87, where e^v is the smallest normal float's order.
inline float exp_nonpositive(float v) {
    v = v < -87.0f ? -87.0f : v;
    constexpr float shift = 12582912.0f;
    const float n = (v * 1.44269504088896341f + shift) - shift;
    const float r = (v - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = r * (1.0f / 720) + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * std::bit_cast<float>((static_cast<int>(n) + 127) << 23);
}

// h = x + gelu(x) (the post-norm residual) and dh/dx = 1 + Phi(x) + x phi(x), sharing Phi.
struct gelu_residual {
    float h;
    float dh;
};
inline gelu_residual gelu_residual_of(float x) {
    const float phi_cdf = 0.5f * (1.0f + erf(x * 0.70710678118654752f));
    const float phi = 0.39894228040143268f * exp_nonpositive(-0.5f * x * x);
    return {x + x * phi_cdf, 1.0f + phi_cdf + x * phi};
}

// --- Rows: one token's D features, in L1 after their first pass.

inline float sum(const float* v, size_t n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < n; ++i) s += v[i];
    return s;
}

struct moments {
    float mean;
    float rstd;
};

// From the row's sum (taken while the row was read or produced): the variance in a second pass,
// about the mean, which does not cancel as E[v^2] - E[v]^2 does.
inline moments moments_of(const float* v, float total, size_t n) {
    const float mean = total / static_cast<float>(n);
    float squares = 0.0f;
#pragma omp simd reduction(+ : squares)
    for (size_t i = 0; i < n; ++i) squares += (v[i] - mean) * (v[i] - mean);
    return {mean, 1.0f / std::sqrt(squares / static_cast<float>(n) + eps)};
}

// y = (v - mean) rstd g + b; y may be v (in place).
inline void normalize(const float* v, moments m, const float* g, const float* b, float* y, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) y[i] = (v[i] - m.mean) * m.rstd * g[i] + b[i];
}

// The LayerNorm backward of a row v normalized with m, seeded by dy: adds dy * vhat to dg and dy
// to db, and hands dL/dv[i] = rstd (dvhat - mean(dvhat) - vhat mean(dvhat vhat)) to store(i, .),
// which may write over v[i] (each i is read before it is stored).
template <class Store>
inline void layer_norm_row_backward(const float* v, moments m, const float* g, const float* dy, float* dg, float* db,
                                    size_t n, Store store) {
    float dn_sum = 0.0f;
    float dn_n_sum = 0.0f;
#pragma omp simd reduction(+ : dn_sum, dn_n_sum)
    for (size_t i = 0; i < n; ++i) {
        const float dvhat = g[i] * dy[i];
        dn_sum += dvhat;
        dn_n_sum += dvhat * ((v[i] - m.mean) * m.rstd);
    }
    const float dn_mean = dn_sum / static_cast<float>(n);
    const float dn_n_mean = dn_n_sum / static_cast<float>(n);
#pragma omp simd
    for (size_t i = 0; i < n; ++i) {
        const float vhat = (v[i] - m.mean) * m.rstd;
        dg[i] += dy[i] * vhat;
        db[i] += dy[i];
        store(i, (g[i] * dy[i] - dn_mean - vhat * dn_n_mean) * m.rstd);
    }
}

// Runs row(t, dg_part, db_part, scratch) for every token in parallel, each thread into its own
// partial rows, then sums the partials in thread order into dg (and db unless null), the
// threads splitting the features.
template <class Row>
void over_tokens_with_parameter_gradients(size_t tokens, size_t features, int threads, const workspace& work,
                                          float* dg, float* db, Row row) {
    work.check(threads);
#pragma omp parallel num_threads(threads)
    {
        const int k = omp_get_thread_num();
        const int n = omp_get_num_threads();
        float* dg_part = work.row(k, 0);
        float* db_part = work.row(k, 1);
        std::fill_n(dg_part, features, 0.0f);
        std::fill_n(db_part, features, 0.0f);
#pragma omp for schedule(static)
        for (size_t t = 0; t < tokens; ++t) row(t, dg_part, db_part, work.row(k, 2));
        // (the barrier at the end of the loop: every partial is complete)
        const auto [begin, end] = part(features, k, n);
        for (size_t r = 0; r < 2; ++r) {
            float* out = r == 0 ? dg : db;
            if (!out) continue;
            std::copy(work.row(0, r) + begin, work.row(0, r) + end, out + begin);
            for (int q = 1; q < n; ++q) {
                const float* p = work.row(q, r);
#pragma omp simd
                for (size_t j = begin; j < end; ++j) out[j] += p[j];
            }
        }
    }
}

// --- layer_norm: y = (x - mean) rstd g + b

inline void layer_norm_fwd(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                           size_t tokens, size_t features, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t t = 0; t < tokens; ++t) {
        const float* xt = x + t * features;
        const moments m = moments_of(xt, sum(xt, features), features);
        normalize(xt, m, g, b, y + t * features, features);
        mean[t] = m.mean;
        rstd[t] = m.rstd;
    }
}

inline void layer_norm_bwd(const float* x, const float* g, const float* dy, const float* mean, const float* rstd,
                           float* dx, float* dg, float* db, size_t tokens, size_t features, int threads,
                           const workspace& work) {
    over_tokens_with_parameter_gradients(tokens, features, threads, work, dg, db, [=](size_t t, float* pg, float* pb, float*) {
        float* dxt = dx + t * features;
        layer_norm_row_backward(x + t * features, {mean[t], rstd[t]}, g, dy + t * features, pg, pb, features,
                                [dxt](size_t i, float d) { dxt[i] = d; });
    });
}

// --- rms_norm: y = x rstd g, rstd = 1 / sqrt(mean(x^2) + eps)

inline void rms_norm_fwd(const float* x, const float* g, float* y, float* rstd, size_t tokens, size_t features,
                         int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t t = 0; t < tokens; ++t) {
        const float* xt = x + t * features;
        float* yt = y + t * features;
        float squares = 0.0f;
#pragma omp simd reduction(+ : squares)
        for (size_t i = 0; i < features; ++i) squares += xt[i] * xt[i];
        const float r = 1.0f / std::sqrt(squares / static_cast<float>(features) + eps);
#pragma omp simd
        for (size_t i = 0; i < features; ++i) yt[i] = xt[i] * r * g[i];
        rstd[t] = r;
    }
}

// dx = rstd (dxhat - xhat mean(dxhat xhat)) with xhat = x rstd, dxhat = dy g: LayerNorm's
// backward without the mean terms. (A function, not a lambda's body: GCC vectorizes a loop over
// a closure's captured pointers with gathers.)
inline void rms_norm_row_backward(const float* x, float rstd, const float* g, const float* dy, float* dg, float* dx,
                                  size_t n) {
    float dn_n_sum = 0.0f;
#pragma omp simd reduction(+ : dn_n_sum)
    for (size_t i = 0; i < n; ++i) dn_n_sum += g[i] * dy[i] * (x[i] * rstd);
    const float dn_n_mean = dn_n_sum / static_cast<float>(n);
#pragma omp simd
    for (size_t i = 0; i < n; ++i) {
        const float xhat = x[i] * rstd;
        dg[i] += dy[i] * xhat;
        dx[i] = (g[i] * dy[i] - xhat * dn_n_mean) * rstd;
    }
}

inline void rms_norm_bwd(const float* x, const float* g, const float* dy, const float* rstd, float* dx, float* dg,
                         size_t tokens, size_t features, int threads, const workspace& work) {
    over_tokens_with_parameter_gradients(tokens, features, threads, work, dg, nullptr, [=](size_t t, float* pg, float*, float*) {
        const size_t at = t * features;
        rms_norm_row_backward(x + at, rstd[t], g, dy + at, pg, dx + at, features);
    });
}

// --- add_layer_norm: s = r + x, y = LN(s)

inline void add_layer_norm_fwd(const float* r, const float* x, const float* g, const float* b, float* s, float* y,
                               float* mean, float* rstd, size_t tokens, size_t features, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t t = 0; t < tokens; ++t) {
        const float* rt = r + t * features;
        const float* xt = x + t * features;
        float* st = s + t * features;
        float total = 0.0f;
#pragma omp simd reduction(+ : total)
        for (size_t i = 0; i < features; ++i) {
            st[i] = rt[i] + xt[i];
            total += st[i];
        }
        const moments m = moments_of(st, total, features);
        normalize(st, m, g, b, y + t * features, features);
        mean[t] = m.mean;
        rstd[t] = m.rstd;
    }
}

// dx = dr = ds + the LayerNorm backward of dy at s.
inline void add_layer_norm_bwd(const float* s, const float* g, const float* ds, const float* dy, const float* mean,
                               const float* rstd, float* dx, float* dg, float* db, size_t tokens, size_t features,
                               int threads, const workspace& work) {
    over_tokens_with_parameter_gradients(tokens, features, threads, work, dg, db, [=](size_t t, float* pg, float* pb, float*) {
        float* dxt = dx + t * features;
        const float* dst = ds + t * features;
        layer_norm_row_backward(s + t * features, {mean[t], rstd[t]}, g, dy + t * features, pg, pb, features,
                                [dxt, dst](size_t i, float d) { dxt[i] = dst[i] + d; });
    });
}

// --- post_norm_gelu: y = LN(h), h = x + gelu(x)

// h is written into y's row (in L1 until it is normalized in place): no scratch, one write.
inline void post_norm_gelu_fwd(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                               size_t tokens, size_t features, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t t = 0; t < tokens; ++t) {
        const float* xt = x + t * features;
        float* yt = y + t * features;
        float total = 0.0f;
#pragma omp simd reduction(+ : total)
        for (size_t i = 0; i < features; ++i) {
            yt[i] = gelu_residual_of(xt[i]).h;
            total += yt[i];
        }
        const moments m = moments_of(yt, total, features);
        normalize(yt, m, g, b, yt, features);
        mean[t] = m.mean;
        rstd[t] = m.rstd;
    }
}

// h and dh/dx are recomputed from x once per row, h into dx's row and dh/dx into the thread's
// scratch row; the LayerNorm backward then overwrites h with dL/dh * dh/dx.
inline void post_norm_gelu_bwd(const float* x, const float* g, const float* dy, const float* mean, const float* rstd,
                               float* dx, float* dg, float* db, size_t tokens, size_t features, int threads,
                               const workspace& work) {
    over_tokens_with_parameter_gradients(tokens, features, threads, work, dg, db, [=](size_t t, float* pg, float* pb, float* dh) {
        const float* xt = x + t * features;
        float* dxt = dx + t * features;
#pragma omp simd
        for (size_t i = 0; i < features; ++i) {
            const gelu_residual v = gelu_residual_of(xt[i]);
            dxt[i] = v.h;
            dh[i] = v.dh;
        }
        layer_norm_row_backward(dxt, {mean[t], rstd[t]}, g, dy + t * features, pg, pb, features,
                                [dxt, dh](size_t i, float d) { dxt[i] = d * dh[i]; });
    });
}

// --- batch_norm_masked: per-feature statistics over the tokens whose mask is 1; every token
// normalized. The threads split the features, not the tokens: a thread sums its own columns over
// all tokens, so there are no partials to merge and no barrier between the passes, and the
// results do not depend on the thread count.

inline float mask_count(const float* mask, size_t tokens) { return sum(mask, tokens); }

// mean and rstd per feature (saved for the backward); tokens with mask 0 are never read into
// them. One read of x for the statistics, not two: a block of tokens (in L2) gets its own mean
// and centred sum of squares in two passes, and the blocks are merged by Chan's formula,
// m2 += m2_block + delta^2 n n_block / (n + n_block): no E[x^2] - E[x]^2 cancellation.
inline void batch_norm_masked_fwd(const float* x, const float* mask, const float* g, const float* b, float* y,
                                  float* mean, float* rstd, size_t tokens, size_t features, int threads,
                                  const workspace& work) {
    constexpr size_t block = 32;
    work.check(threads);
    const float count = mask_count(mask, tokens);
#pragma omp parallel num_threads(threads)
    {
        const auto [begin, end] = part(features, omp_get_thread_num(), omp_get_num_threads());
        float* mu = work.row(omp_get_thread_num(), 0);
        float* m2 = work.row(omp_get_thread_num(), 1);
        float* block_mu = work.row(omp_get_thread_num(), 2);
        std::fill(mu + begin, mu + end, 0.0f);
        std::fill(m2 + begin, m2 + end, 0.0f);
        float merged = 0.0f;  // the tokens in mu and m2 so far
        for (size_t first = 0; first < tokens; first += block) {
            const size_t last = std::min(first + block, tokens);
            const float n = sum(mask + first, last - first);
            if (n == 0.0f) continue;
            std::fill(block_mu + begin, block_mu + end, 0.0f);
            for (size_t t = first; t < last; ++t) {
                if (mask[t] == 0.0f) continue;
                const float* xt = x + t * features;
#pragma omp simd
                for (size_t j = begin; j < end; ++j) block_mu[j] += xt[j];
            }
#pragma omp simd
            for (size_t j = begin; j < end; ++j) block_mu[j] /= n;
            for (size_t t = first; t < last; ++t) {
                if (mask[t] == 0.0f) continue;
                const float* xt = x + t * features;
#pragma omp simd
                for (size_t j = begin; j < end; ++j) m2[j] += (xt[j] - block_mu[j]) * (xt[j] - block_mu[j]);
            }
            const float total = merged + n;
            const float weight = n / total;
            const float cross = merged * weight;
#pragma omp simd
            for (size_t j = begin; j < end; ++j) {
                const float delta = block_mu[j] - mu[j];
                mu[j] += delta * weight;
                m2[j] += delta * delta * cross;
            }
            merged = total;
        }
        for (size_t j = begin; j < end; ++j) {
            mean[j] = mu[j];
            rstd[j] = 1.0f / std::sqrt(m2[j] / count + eps);
        }
        for (size_t t = 0; t < tokens; ++t) {
            const float* xt = x + t * features;
            float* yt = y + t * features;
#pragma omp simd
            for (size_t j = begin; j < end; ++j) yt[j] = (xt[j] - mean[j]) * rstd[j] * g[j] + b[j];
        }
    }
}

// dx = rstd (dxhat - mask/M (sum_s dxhat_s + xhat sum_s dxhat_s xhat_s)), sums over all tokens,
// with sum_s dxhat_s = g db and sum_s dxhat_s xhat_s = g dg: a first pass for dg and db, a second
// for dx.
inline void batch_norm_masked_bwd(const float* x, const float* mask, const float* g, const float* dy,
                                  const float* mean, const float* rstd, float* dx, float* dg, float* db, size_t tokens,
                                  size_t features, int threads, const workspace& work) {
    work.check(threads);
    const float count = mask_count(mask, tokens);
#pragma omp parallel num_threads(threads)
    {
        const auto [begin, end] = part(features, omp_get_thread_num(), omp_get_num_threads());
        float* sum_dy_xhat = work.row(omp_get_thread_num(), 0);
        float* sum_dy = work.row(omp_get_thread_num(), 1);
        std::fill(sum_dy_xhat + begin, sum_dy_xhat + end, 0.0f);
        std::fill(sum_dy + begin, sum_dy + end, 0.0f);
        for (size_t t = 0; t < tokens; ++t) {
            const float* xt = x + t * features;
            const float* dyt = dy + t * features;
#pragma omp simd
            for (size_t j = begin; j < end; ++j) {
                sum_dy_xhat[j] += dyt[j] * ((xt[j] - mean[j]) * rstd[j]);
                sum_dy[j] += dyt[j];
            }
        }
        // From here on the rows hold the per-feature terms of dx, divided by M.
        for (size_t j = begin; j < end; ++j) {
            dg[j] = sum_dy_xhat[j];
            db[j] = sum_dy[j];
            sum_dy_xhat[j] = g[j] * dg[j] / count;
            sum_dy[j] = g[j] * db[j] / count;
        }
        const float* c_xhat = sum_dy_xhat;
        const float* c_one = sum_dy;
        for (size_t t = 0; t < tokens; ++t) {
            const float* xt = x + t * features;
            const float* dyt = dy + t * features;
            float* dxt = dx + t * features;
            const float m = mask[t];
#pragma omp simd
            for (size_t j = begin; j < end; ++j) {
                const float xhat = (xt[j] - mean[j]) * rstd[j];
                dxt[j] = rstd[j] * (g[j] * dyt[j] - m * (c_one[j] + xhat * c_xhat[j]));
            }
        }
    }
}

}  // namespace handwritten
