// Peer: oneDNN 2.x (the v2 primitive API: op descriptor, primitive descriptor, primitive), on the
// CPU engine, f32, every T x D array a plain row-major `ab` memory over the benchmark's own
// buffers. Primitives are created (and JIT-compiled) once, before timing, with a user-managed
// scratchpad allocated then; a timed call only executes them.
//
// What runs, per graph (every pass: fwd, bwd, train):
//   layer_norm      layer_normalization forward (forward_training, use_scale | use_shift: it
//                   writes y and the row mean and variance) and backward (prop_kind::backward:
//                   diff_src, diff_scale, diff_shift, from the saved mean and variance)
//   add_layer_norm  binary add (s = r + x), then layer_normalization of s; backward: the
//                   layer_normalization backward of s into dx, then binary add dx += ds in place
//   post_norm_gelu  eltwise gelu_erf (h = gelu(x) into u), binary add u += x in place, then
//                   layer_normalization of u; backward: layer_normalization backward into du,
//                   eltwise gelu_erf backward (dx = du * gelu'(x)), then binary add dx += du in
//                   place. Not the eltwise primitive with a binary-add post-op (u = gelu(x) + x
//                   in one primitive): oneDNN 2.6 accepts it but runs it with its reference
//                   implementation (ref:any, more than 10x slower than the jit eltwise and binary)
// In the backward, layer_normalization is given the shift too: oneDNN 2.6 refuses to execute
// the backward of a use_shift descriptor without it (the gradients do not depend on it).
// Skipped, with the reason:
//   rms_norm           oneDNN 2.6 has no RMS normalization primitive (layer_normalization always
//                      subtracts the mean), and composing it from reduction + binary + eltwise
//                      primitives would be us writing the kernel, not oneDNN
//   batch_norm_masked  the batch_normalization primitive takes its statistics over every token:
//                      it has no mask, so it cannot compute this graph
//
// Threads: Debian's libdnnl is built with DNNL_CPU_RUNTIME=OMP (it links libgomp, the runtime
// this binary's OpenMP uses), so the thread count is omp_set_num_threads(threads), set before
// the primitives are created (a primitive may size its work split then) and kept while they run,
// and the previous count restored afterwards.
#include <oneapi/dnnl/dnnl.hpp>

#include <omp.h>

// bench/CMakeLists.txt adds this file only for such a oneDNN; a safety net for other builds.
#if DNNL_VERSION_MAJOR != 2 || DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_OMP
#error "bench/peers/onednn.cpp needs oneDNN 2.x built with the OpenMP CPU runtime"
#endif

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "../workload.hpp"

namespace {

using bench::graph;
using bench::pass;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using args = std::unordered_map<int, dnnl::memory>;

constexpr float eps = 1e-5f;

class omp_threads {
public:
    explicit omp_threads(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }
    ~omp_threads() { omp_set_num_threads(previous_); }
    omp_threads(const omp_threads&) = delete;
    omp_threads& operator=(const omp_threads&) = delete;

private:
    int previous_;
};

// A primitive, its arguments and its scratchpad, made once.
struct step {
    dnnl::primitive prim;
    args arguments;
    dnnl::memory scratchpad;

    template <class PrimitiveDesc>
    step(const PrimitiveDesc& pd, const dnnl::engine& engine, args a)
        : prim(pd), arguments(std::move(a)), scratchpad(pd.scratchpad_desc(), engine) {
        arguments.insert({DNNL_ARG_SCRATCHPAD, scratchpad});
    }
    void operator()(dnnl::stream& stream) const { prim.execute(stream, arguments); }
};

dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

struct problem {
    graph gr;
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    dnnl::stream stream{engine};
    dnnl::memory::desc act, stat, feat;
    // inputs, outputs and what the forward saves (mean and variance; post_norm_gelu: u)
    std::vector<float> x, r, g, b, dy, ds, y, s, u, dx, du, dg, db, mean, variance;
    std::vector<step> forward_steps, backward_steps;

    dnnl::memory mem(const dnnl::memory::desc& md, std::vector<float>& v) {
        return {md, engine, v.data()};
    }

    problem(graph gr_, bench::shape sh, bool backward) : gr(gr_) {
        const auto T = static_cast<dnnl::memory::dim>(sh.tokens), D = static_cast<dnnl::memory::dim>(sh.features);
        act = {{T, D}, dt::f32, tag::ab};
        stat = {{T}, dt::f32, tag::a};
        feat = {{D}, dt::f32, tag::a};
        const std::size_t acts = sh.tokens * sh.features;
        x = bench::filled(acts, bench::seed_of("x"));
        g = bench::filled(sh.features, bench::seed_of("g"));
        b = bench::filled(sh.features, bench::seed_of("b"));
        y.assign(acts, 0.0f);
        mean.assign(sh.tokens, 0.0f);
        variance.assign(sh.tokens, 0.0f);
        if (backward) {
            dy = bench::filled(acts, bench::seed_of("dy"));
            dx.assign(acts, 0.0f);
            dg.assign(sh.features, 0.0f);
            db.assign(sh.features, 0.0f);
        }

        const auto attr = user_scratchpad();
        const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
        const dnnl::layer_normalization_forward::primitive_desc ln_fwd(
            {dnnl::prop_kind::forward_training, act, stat, eps, flags}, attr, engine);
        const dnnl::binary::primitive_desc add({dnnl::algorithm::binary_add, act, act, act}, attr, engine);

        // The tensor the LayerNorm normalizes: x, s = r + x, or u = x + gelu(x).
        std::vector<float>* normalized = &x;
        if (gr == graph::add_layer_norm) {
            r = bench::filled(acts, bench::seed_of("r"));
            s.assign(acts, 0.0f);
            forward_steps.emplace_back(add, engine,
                                       args{{DNNL_ARG_SRC_0, mem(act, r)}, {DNNL_ARG_SRC_1, mem(act, x)},
                                            {DNNL_ARG_DST, mem(act, s)}});
            normalized = &s;
        }
        const dnnl::eltwise_forward::primitive_desc gelu(
            {dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_gelu_erf, act}, attr, engine);
        if (gr == graph::post_norm_gelu) {
            // u = gelu(x), then u += x in place (dst = src0).
            u.assign(acts, 0.0f);
            forward_steps.emplace_back(gelu, engine, args{{DNNL_ARG_SRC, mem(act, x)}, {DNNL_ARG_DST, mem(act, u)}});
            forward_steps.emplace_back(add, engine,
                                       args{{DNNL_ARG_SRC_0, mem(act, u)}, {DNNL_ARG_SRC_1, mem(act, x)},
                                            {DNNL_ARG_DST, mem(act, u)}});
            normalized = &u;
        }
        forward_steps.emplace_back(ln_fwd, engine,
                                   args{{DNNL_ARG_SRC, mem(act, *normalized)}, {DNNL_ARG_DST, mem(act, y)},
                                        {DNNL_ARG_MEAN, mem(stat, mean)}, {DNNL_ARG_VARIANCE, mem(stat, variance)},
                                        {DNNL_ARG_SCALE, mem(feat, g)}, {DNNL_ARG_SHIFT, mem(feat, b)}});
        if (!backward) return;

        // LayerNorm's backward writes dx, or du for post_norm_gelu (whose dx is gelu's).
        if (gr == graph::post_norm_gelu) du.assign(acts, 0.0f);
        std::vector<float>& ln_diff_src = gr == graph::post_norm_gelu ? du : dx;
        const dnnl::layer_normalization_backward::primitive_desc ln_bwd(
            {dnnl::prop_kind::backward, act, act, stat, eps, flags}, attr, engine, ln_fwd);
        backward_steps.emplace_back(
            ln_bwd, engine,
            args{{DNNL_ARG_SRC, mem(act, *normalized)}, {DNNL_ARG_MEAN, mem(stat, mean)},
                 {DNNL_ARG_VARIANCE, mem(stat, variance)}, {DNNL_ARG_DIFF_DST, mem(act, dy)},
                 {DNNL_ARG_SCALE, mem(feat, g)}, {DNNL_ARG_SHIFT, mem(feat, b)}, {DNNL_ARG_DIFF_SRC, mem(act, ln_diff_src)},
                 {DNNL_ARG_DIFF_SCALE, mem(feat, dg)}, {DNNL_ARG_DIFF_SHIFT, mem(feat, db)}});
        if (gr == graph::add_layer_norm) {
            // dx += ds (dr equals dx): binary add in place, dst = src0.
            ds = bench::filled(acts, bench::seed_of("ds"));
            backward_steps.emplace_back(add, engine,
                                        args{{DNNL_ARG_SRC_0, mem(act, dx)}, {DNNL_ARG_SRC_1, mem(act, ds)},
                                             {DNNL_ARG_DST, mem(act, dx)}});
        }
        if (gr == graph::post_norm_gelu) {
            // dx = du * gelu'(x), then dx += du (the x term of u = x + gelu(x)).
            const dnnl::eltwise_backward::primitive_desc gelu_bwd(
                {dnnl::algorithm::eltwise_gelu_erf, act, act}, attr, engine, gelu);
            backward_steps.emplace_back(gelu_bwd, engine,
                                        args{{DNNL_ARG_SRC, mem(act, x)}, {DNNL_ARG_DIFF_DST, mem(act, du)},
                                             {DNNL_ARG_DIFF_SRC, mem(act, dx)}});
            backward_steps.emplace_back(add, engine,
                                        args{{DNNL_ARG_SRC_0, mem(act, dx)}, {DNNL_ARG_SRC_1, mem(act, du)},
                                             {DNNL_ARG_DST, mem(act, dx)}});
        }
    }

    void forward() {
        for (const step& st : forward_steps) st(stream);
        stream.wait();
    }
    void backward() {
        for (const step& st : backward_steps) st(stream);
        stream.wait();
    }
};

void run(graph gr, pass p, benchmark::State& state, bench::shape sh, int threads) {
    const omp_threads scope(threads);
    problem c(gr, sh, p != pass::fwd);
    const std::size_t bytes = bench::minimal(gr, p).bytes(sh);
    bench::measure_pass(state, p, bytes, c);
}

const int registered = [] {
    for (const graph gr : {graph::layer_norm, graph::add_layer_norm, graph::post_norm_gelu})
        for (const pass p : {pass::fwd, pass::bwd, pass::train})
            bench::add(gr, p, "onednn",
                       [gr, p](benchmark::State& state, bench::shape sh, int threads) { run(gr, p, state, sh, threads); });
    return 0;
}();

}  // namespace
