// Peer: LibTorch (the ATen operators of PyTorch's C++ API), run as PyTorch runs a module
// eagerly on the CPU: one operator call per op of the Python code, every intermediate a tensor.
// Every graph and every pass.
//
// Forward, per graph, the ops the PyTorch code calls:
//   layer_norm      at::native_layer_norm (what F.layer_norm runs; returns y, mean, rstd)
//   add_layer_norm  s = r + x; native_layer_norm(s)
//   post_norm_gelu  h = gelu(x) (approximate="none": erf); u = x + h; native_layer_norm(u)
//   rms_norm        no fused kernel in PyTorch: x * rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g
//   batch_norm_m.   no masked batch norm in PyTorch: the statistics as the code writes them,
//                   m = mask[:, None], count = m.sum(), mu = (x * m).sum(0) / count,
//                   xc = x - mu, var = (xc.pow(2) * m).sum(0) / count, rstd = rsqrt(var + eps),
//                   y = xc * rstd * g + b
// Backward: what autograd runs for that forward, written out op by op (autograd itself would
// allocate every gradient): native_layer_norm_backward for the LayerNorms, and for the
// composites each node's derivative formula (MulBackward0, RsqrtBackward0, MeanBackward1,
// PowBackward0, SumBackward1, SubBackward0, DivBackward0), a broadcast operand's gradient
// reduced to its shape (sum_to) and gradients reaching a tensor twice added, as the engine does.
// The forward's saved tensors (mean, rstd, the intermediates autograd saves) are kept from the
// forward and read by the backward.
//
// Memory: inputs are from_blob over the benchmark's buffers; every output and intermediate of an
// op with an out= kernel (add, mul, div, sub, neg, pow, rsqrt, sum, mean, gelu, gelu_backward:
// all structured kernels) is preallocated once and written with the *_out variant. The two
// LayerNorm ops have no out= kernel in 1.13: native_layer_norm_out and
// native_layer_norm_backward_out exist but are generated wrappers that call the allocating op
// and copy its results (a T x D copy that eager PyTorch never does), so the allocating ops are
// called, as PyTorch calls them; their y (or dx) and statistics are freshly allocated tensors.
// For those allocations not to page-fault, glibc is told, for the duration of a LibTorch
// benchmark only, to serve every block from the heap and never trim it (mallopt M_MMAP_MAX 0,
// M_TRIM_THRESHOLD huge): a block freed by one call is handed back to the next with its pages
// resident, as PyTorch's own caching allocators do on a GPU. The previous results are released
// before each call, so that one block per result is recycled, and untimed calls are made until
// one takes no page fault (settle). Defaults are restored afterwards.
//
// Threads: at::set_num_threads(threads) (Debian's LibTorch's parallel backend is OpenMP, the
// libgomp this binary uses), OpenMP's previous count restored afterwards (torch_threads).
// torch_threads, heap_blocks and settle are in libtorch_common.hpp, shared with
// peers/libtorch_train.cpp.
#include <ATen/ATen.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

#include "../workload.hpp"
#include "libtorch_common.hpp"

namespace {

using bench::graph;
using bench::pass;
using libtorch_peer::heap_blocks;
using libtorch_peer::settle;
using libtorch_peer::torch_threads;

constexpr double eps = 1e-5;

struct problem {
    graph gr;
    std::int64_t T, D;
    std::array<std::int64_t, 1> normalized_shape;
    std::array<std::int64_t, 1> rows{0}, last{-1};  // dims: over the tokens, over the features
    // the benchmark's input buffers, under the input tensors
    std::vector<float> x_data, r_data, g_data, b_data, mask_data, dy_data, ds_data;
    at::Tensor x, r, g, b, m, dy, ds;
    // 0-dim operands of the scalar arithmetic, as Python's `+ eps` and `2 *` become
    at::Tensor eps_t, two_t, minus_half_t, features_t;
    // outputs
    at::Tensor y, s, dx, dg, db;
    // saved by the forward: LayerNorm's mean and rstd (returned by native_layer_norm), u
    // (post_norm_gelu), and the composites' intermediates
    at::Tensor mean, rstd;
    at::Tensor h, u;                        // post_norm_gelu
    at::Tensor sq, ms, ve, a;               // rms_norm: x^2, its mean, + eps, x * rstd
    at::Tensor cnt, musum, mu, xc, vsum, var, xhat;  // batch_norm_masked
    // backward intermediates
    at::Tensor gs;                          // LayerNorm's gradient of its input (add, post_norm)
    at::Tensor gh;                          // gelu_backward
    at::Tensor ga, gx1, t1, t2, grs, f1, f2, gve, gvs, gmu, gms;

    static at::Tensor over(std::vector<float>& v, at::IntArrayRef sizes) {
        return at::from_blob(v.data(), sizes, at::kFloat);
    }
    at::Tensor act() const { return at::empty({T, D}, at::kFloat); }
    at::Tensor feat() const { return at::empty({D}, at::kFloat); }
    at::Tensor per_token() const { return at::empty({T, 1}, at::kFloat); }
    static at::Tensor scalar(double v) { return at::scalar_tensor(v, at::kFloat); }

    problem(graph gr_, bench::shape sh, bool backward)
        : gr(gr_), T(static_cast<std::int64_t>(sh.tokens)), D(static_cast<std::int64_t>(sh.features)),
          normalized_shape{D} {
        const std::size_t acts = sh.tokens * sh.features;
        x_data = bench::filled(acts, bench::seed_of("x"));
        x = over(x_data, {T, D});
        g_data = bench::filled(sh.features, bench::seed_of("g"));
        g = over(g_data, {D});
        if (gr != graph::rms_norm) {
            b_data = bench::filled(sh.features, bench::seed_of("b"));
            b = over(b_data, {D});
        }
        eps_t = scalar(eps);
        two_t = scalar(2.0);
        minus_half_t = scalar(-0.5);
        features_t = scalar(static_cast<double>(D));
        switch (gr) {
            case graph::layer_norm: break;
            case graph::add_layer_norm:
                r_data = bench::filled(acts, bench::seed_of("r"));
                r = over(r_data, {T, D});
                s = act();
                break;
            case graph::post_norm_gelu:
                h = act();
                u = act();
                break;
            case graph::rms_norm:
                sq = act();
                ms = per_token();
                ve = per_token();
                rstd = per_token();
                a = act();
                y = act();
                break;
            case graph::batch_norm_masked:
                mask_data = bench::mask_of(sh.tokens);
                m = over(mask_data, {T, 1});
                cnt = scalar(0.0);
                musum = feat();
                mu = feat();
                xc = act();
                vsum = feat();
                var = feat();
                ve = feat();
                rstd = feat();
                xhat = act();
                t1 = act();
                t2 = act();
                y = act();
                break;
            case graph::custom_norm: break;  // etna only: never registered here
        }
        if (!backward) return;
        dy_data = bench::filled(acts, bench::seed_of("dy"));
        dy = over(dy_data, {T, D});
        if (gr == graph::add_layer_norm) {
            ds_data = bench::filled(acts, bench::seed_of("ds"));
            ds = over(ds_data, {T, D});
        }
        if (gr != graph::layer_norm) dx = act();
        if (gr == graph::post_norm_gelu) gh = act();
        if (gr == graph::rms_norm) {
            dg = feat();
            ga = act();
            gx1 = act();
            t1 = act();
            grs = per_token();
            f1 = per_token();
            f2 = per_token();
            gve = per_token();
        }
        if (gr == graph::batch_norm_masked) {
            dg = feat();
            db = feat();
            ga = act();
            gx1 = act();
            grs = feat();
            f1 = feat();
            f2 = feat();
            gve = feat();
            gvs = feat();
            gmu = feat();
            gms = feat();
        }
    }

    // native_layer_norm of in into y, mean, rstd; the previous results released first.
    void layer_norm(const at::Tensor& in) {
        y = at::Tensor();
        mean = at::Tensor();
        rstd = at::Tensor();
        std::tie(y, mean, rstd) = at::native_layer_norm(in, normalized_shape, g, b, eps);
    }
    // native_layer_norm_backward of in into grad_in, dg, db.
    void layer_norm_backward(const at::Tensor& in, at::Tensor& grad_in) {
        grad_in = at::Tensor();
        dg = at::Tensor();
        db = at::Tensor();
        std::tie(grad_in, dg, db) =
            at::native_layer_norm_backward(dy, in, normalized_shape, mean, rstd, g, b, {true, true, true});
    }

    void forward() {
        switch (gr) {
            case graph::layer_norm:
                layer_norm(x);
                break;
            case graph::add_layer_norm:
                at::add_out(s, r, x);
                layer_norm(s);
                break;
            case graph::post_norm_gelu:
                at::gelu_out(h, x, "none");
                at::add_out(u, x, h);
                layer_norm(u);
                break;
            case graph::rms_norm:
                at::pow_out(sq, x, 2);
                at::mean_out(ms, sq, last, /*keepdim=*/true);
                at::add_out(ve, ms, eps_t);
                at::rsqrt_out(rstd, ve);
                at::mul_out(a, x, rstd);
                at::mul_out(y, a, g);
                break;
            case graph::batch_norm_masked:
                at::sum_out(cnt, m);
                at::mul_out(t1, x, m);
                at::sum_out(musum, t1, rows);
                at::div_out(mu, musum, cnt);
                at::sub_out(xc, x, mu);
                at::pow_out(t1, xc, 2);
                at::mul_out(t2, t1, m);
                at::sum_out(vsum, t2, rows);
                at::div_out(var, vsum, cnt);
                at::add_out(ve, var, eps_t);
                at::rsqrt_out(rstd, ve);
                at::mul_out(xhat, xc, rstd);
                at::mul_out(t1, xhat, g);
                at::add_out(y, t1, b);
                break;
            case graph::custom_norm: break;  // etna only: never registered here
        }
    }

    void backward() {
        switch (gr) {
            case graph::layer_norm:
                layer_norm_backward(x, dx);
                break;
            case graph::add_layer_norm:
                // s's gradient: LayerNorm's plus the seed ds, added (the engine's accumulation);
                // AddBackward0 then hands it to r and x alike (dr equals dx).
                layer_norm_backward(s, gs);
                at::add_out(dx, ds, gs);
                break;
            case graph::post_norm_gelu:
                // u = x + h: AddBackward0 hands gu to x and to h; GeluBackward0; x's two
                // gradients added.
                layer_norm_backward(u, gs);
                at::gelu_backward_out(gh, gs, x, "none");
                at::add_out(dx, gs, gh);
                break;
            case graph::rms_norm:
                // y = a * g (MulBackward0): a's gradient dy * g; g's dy * a, summed to g's shape
                at::mul_out(ga, dy, g);
                at::mul_out(t1, dy, a);
                at::sum_out(dg, t1, rows);
                // a = x * rstd (MulBackward0): x's gradient ga * rstd; rstd's ga * x, summed to (T, 1)
                at::mul_out(gx1, ga, rstd);
                at::mul_out(t1, ga, x);
                at::sum_out(grs, t1, last, /*keepdim=*/true);
                // rstd = rsqrt(ve) (RsqrtBackward0): -0.5 * grad * result.pow(3); + eps: identity
                at::mul_out(f1, grs, minus_half_t);
                at::pow_out(f2, rstd, 3);
                at::mul_out(gve, f1, f2);
                // ms = sq.mean(-1, keepdim) (MeanBackward1): grad.expand(T, D) / D
                at::div_out(t1, gve.expand({T, D}), features_t);
                // sq = x.pow(2) (PowBackward0): grad * (2 * x.pow(1))
                at::pow_out(ga, x, 1);
                at::mul_out(ga, ga, two_t);
                at::mul_out(t1, t1, ga);
                // x's two gradients added
                at::add_out(dx, gx1, t1);
                break;
            case graph::batch_norm_masked:
                // y = t + b (AddBackward0): b's gradient dy summed to b's shape
                at::sum_out(db, dy, rows);
                // t = xhat * g (MulBackward0): xhat's gradient dy * g (into ga); g's dy * xhat, summed
                at::mul_out(ga, dy, g);
                at::mul_out(t1, dy, xhat);
                at::sum_out(dg, t1, rows);
                // xhat = xc * rstd (MulBackward0): xc's gradient ga * rstd (into gx1); rstd's ga * xc, summed
                at::mul_out(gx1, ga, rstd);
                at::mul_out(t1, ga, xc);
                at::sum_out(grs, t1, rows);
                // rstd = rsqrt(ve) (RsqrtBackward0); ve = var + eps: identity
                at::mul_out(f1, grs, minus_half_t);
                at::pow_out(f2, rstd, 3);
                at::mul_out(gve, f1, f2);
                // var = vsum / count (DivBackward0)
                at::div_out(gvs, gve, cnt);
                // vsum = (sq * m).sum(0) (SumBackward1: expand; MulBackward0: * m)
                at::mul_out(t1, gvs.expand({T, D}), m);
                // sq = xc.pow(2) (PowBackward0): grad * (2 * xc.pow(1))
                at::pow_out(t2, xc, 1);
                at::mul_out(t2, t2, two_t);
                at::mul_out(t1, t1, t2);
                // xc's two gradients added
                at::add_out(gx1, gx1, t1);
                // xc = x - mu (SubBackward0): x's gradient gx1; mu's -gx1 summed to mu's shape
                at::neg_out(t1, gx1);
                at::sum_out(gmu, t1, rows);
                // mu = musum / count (DivBackward0); musum = (x * m).sum(0): expand, * m
                at::div_out(gms, gmu, cnt);
                at::mul_out(t1, gms.expand({T, D}), m);
                // x's two gradients added
                at::add_out(dx, gx1, t1);
                break;
            case graph::custom_norm: break;  // etna only: never registered here
        }
    }
};

void run(graph gr, pass p, benchmark::State& state, bench::shape sh, int threads) {
    const torch_threads scope(threads);
    problem c(gr, sh, p != pass::fwd);
    const heap_blocks heap;
    const std::size_t bytes = bench::minimal(gr, p).bytes(sh);
    const auto forward = [&] { c.forward(); };
    const auto backward = [&] { c.backward(); };
    const auto train = [&] {
        c.forward();
        c.backward();
    };
    switch (p) {
        case pass::fwd:
            settle(forward);
            bench::measure(state, bytes, forward);
            break;
        case pass::bwd:
            c.forward();
            settle(backward);
            bench::measure(state, bytes, backward);
            break;
        case pass::train:
            settle(train);
            bench::measure(state, bytes, train);
            break;
    }
}

const int registered = [] {
    for (const graph gr : {graph::layer_norm, graph::rms_norm, graph::add_layer_norm, graph::post_norm_gelu,
                           graph::batch_norm_masked})
        for (const pass p : {pass::fwd, pass::bwd, pass::train})
            bench::add(gr, p, "libtorch",
                       [gr, p](benchmark::State& state, bench::shape sh, int threads) { run(gr, p, state, sh, threads); });
    return 0;
}();

}  // namespace
