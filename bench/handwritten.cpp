// The "handwritten" implementation of the benchmark matrix: the expert's kernels of
// handwritten.hpp, for every graph and pass of workload.hpp.
//
// A case owns a graph's inputs (filled by name, as every implementation's), its outputs, the
// statistics its forward saves and the kernels' workspace, all allocated and touched before
// timing; forward() and backward() run its kernels. bwd is timed after one untimed forward (which writes
// the saved statistics, and s for add_layer_norm); train times the forward and the backward.
#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include "handwritten.hpp"
#include "workload.hpp"

namespace {

using bench::graph;
using bench::pass;
using std::size_t;
using floats = std::vector<float>;

struct base {
    size_t T;
    size_t D;
    int threads;
    handwritten::workspace work{threads, D};

    [[nodiscard]] floats act(const char* name) const { return bench::filled(T * D, bench::seed_of(name)); }
    [[nodiscard]] floats feature(const char* name) const { return bench::filled(D, bench::seed_of(name)); }
};

struct layer_norm_case : base {
    static constexpr graph id = graph::layer_norm;
    floats x = act("x"), g = feature("g"), b = feature("b"), dy = act("dy");
    floats y = floats(T * D), dx = floats(T * D), dg = floats(D), db = floats(D), mean = floats(T), rstd = floats(T);
    void forward() { handwritten::layer_norm_fwd(x.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), T, D, threads); }
    void backward() {
        handwritten::layer_norm_bwd(x.data(), g.data(), dy.data(), mean.data(), rstd.data(), dx.data(), dg.data(), db.data(),
                                    T, D, threads, work);
    }
};

struct rms_norm_case : base {
    static constexpr graph id = graph::rms_norm;
    floats x = act("x"), g = feature("g"), dy = act("dy");
    floats y = floats(T * D), dx = floats(T * D), dg = floats(D), rstd = floats(T);
    void forward() { handwritten::rms_norm_fwd(x.data(), g.data(), y.data(), rstd.data(), T, D, threads); }
    void backward() {
        handwritten::rms_norm_bwd(x.data(), g.data(), dy.data(), rstd.data(), dx.data(), dg.data(), T, D, threads, work);
    }
};

struct add_layer_norm_case : base {
    static constexpr graph id = graph::add_layer_norm;
    floats r = act("r"), x = act("x"), g = feature("g"), b = feature("b"), ds = act("ds"), dy = act("dy");
    floats s = floats(T * D), y = floats(T * D), dx = floats(T * D), dg = floats(D), db = floats(D), mean = floats(T),
           rstd = floats(T);
    void forward() {
        handwritten::add_layer_norm_fwd(r.data(), x.data(), g.data(), b.data(), s.data(), y.data(), mean.data(), rstd.data(),
                                        T, D, threads);
    }
    void backward() {
        handwritten::add_layer_norm_bwd(s.data(), g.data(), ds.data(), dy.data(), mean.data(), rstd.data(), dx.data(),
                                        dg.data(), db.data(), T, D, threads, work);
    }
};

struct post_norm_gelu_case : base {
    static constexpr graph id = graph::post_norm_gelu;
    floats x = act("x"), g = feature("g"), b = feature("b"), dy = act("dy");
    floats y = floats(T * D), dx = floats(T * D), dg = floats(D), db = floats(D), mean = floats(T), rstd = floats(T);
    void forward() {
        handwritten::post_norm_gelu_fwd(x.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), T, D, threads);
    }
    void backward() {
        handwritten::post_norm_gelu_bwd(x.data(), g.data(), dy.data(), mean.data(), rstd.data(), dx.data(), dg.data(),
                                        db.data(), T, D, threads, work);
    }
};

struct batch_norm_masked_case : base {
    static constexpr graph id = graph::batch_norm_masked;
    floats x = act("x"), mask = bench::mask_of(T), g = feature("g"), b = feature("b"), dy = act("dy");
    floats y = floats(T * D), dx = floats(T * D), dg = floats(D), db = floats(D), mean = floats(D), rstd = floats(D);
    void forward() {
        handwritten::batch_norm_masked_fwd(x.data(), mask.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), T,
                                           D, threads, work);
    }
    void backward() {
        handwritten::batch_norm_masked_bwd(x.data(), mask.data(), g.data(), dy.data(), mean.data(), rstd.data(), dx.data(),
                                           dg.data(), db.data(), T, D, threads, work);
    }
};

template <class Case>
void run(benchmark::State& state, pass p, bench::shape shape, int threads) {
    Case c{{shape.tokens, shape.features, threads}};
    const size_t bytes = bench::minimal(Case::id, p).bytes(shape);
    bench::measure_pass(state, p, bytes, c);
}

template <class Case>
void add() {
    for (const pass p : {pass::fwd, pass::bwd, pass::train})
        bench::add(Case::id, p, "handwritten",
                   [p](benchmark::State& state, bench::shape shape, int threads) { run<Case>(state, p, shape, threads); });
}

const int registered = [] {
    add<layer_norm_case>();
    add<rms_norm_case>();
    add<add_layer_norm_case>();
    add<post_norm_gelu_case>();
    add<batch_norm_masked_case>();
    return 0;
}();

}  // namespace
