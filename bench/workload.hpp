// The benchmark matrix shared by every implementation (etna, eager, handwritten and the peers):
// the graphs and passes, what each reads and writes (hence its minimal traffic), the shapes,
// the thread counts, the data, and how a benchmark is named, timed and registered.
//
// No etna here: a peer's translation unit includes this header and its own library only.
//
// The graphs, with T tokens and D features, every array float, row-major T x D:
//   layer_norm         y = LN(x) = (x - mean) * rstd * g + b, mean and rstd per token, eps 1e-5
//   rms_norm           y = x * rsqrt(mean(x^2) + 1e-5) * g
//   add_layer_norm     s = r + x and y = LN(s): the pre-norm residual stream and its norm
//   post_norm_gelu     y = LN(x + gelu(x)), gelu(x) = 0.5 x (1 + erf(x / sqrt 2))
//   batch_norm_masked  y = (x - mu) * rstd * g + b, mu and rstd per feature over the tokens
//                      whose mask is 1 (mask: T floats, 1 or 0); every token is normalized
//   custom_norm        y = x * rsqrt(mean(x^2) + 1e-5) * g + x: a norm that is not in etna's
//                      ops/, written in the benchmark (etna only: it must run as fast as rms_norm)
// Passes: fwd computes y (and s); bwd the gradients, seeded by dy (and ds), after an untimed
// forward whose saved statistics it may read; train the forward and then the backward.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <benchmark/benchmark.h>

namespace bench {

enum class graph { layer_norm, rms_norm, add_layer_norm, post_norm_gelu, batch_norm_masked, custom_norm };
enum class pass { fwd, bwd, train };

inline const char* name_of(graph g) {
    switch (g) {
        case graph::layer_norm: return "layer_norm";
        case graph::rms_norm: return "rms_norm";
        case graph::add_layer_norm: return "add_layer_norm";
        case graph::post_norm_gelu: return "post_norm_gelu";
        case graph::batch_norm_masked: return "batch_norm_masked";
        case graph::custom_norm: return "custom_norm";
    }
    return "?";
}
inline const char* name_of(pass p) {
    switch (p) {
        case pass::fwd: return "fwd";
        case pass::bwd: return "bwd";
        case pass::train: return "train";
    }
    return "?";
}

struct shape {
    std::size_t tokens;
    std::size_t features;
};
inline constexpr std::array<shape, 3> shapes{{{4096, 768}, {16384, 1024}, {8192, 4096}}};
inline constexpr std::array<int, 2> thread_counts{1, 2};

// What a graph's passes read and write, in arrays of T x D (acts), of D (per feature) and of
// T (per token) floats. The statistics a forward saves for its backward (a row's mean and
// rstd, say) are each implementation's own business and are not counted.
struct traffic {
    std::size_t acts = 0;
    std::size_t per_feature = 0;
    std::size_t per_token = 0;
    [[nodiscard]] std::size_t bytes(shape s) const {
        return sizeof(float) * (acts * s.tokens * s.features + per_feature * s.features + per_token * s.tokens);
    }
};

// Minimal traffic: every input read once, every output written once.
//   layer_norm      fwd  x g b -> y               bwd  x g dy -> dx dg db
//   rms_norm        fwd  x g -> y                 bwd  x g dy -> dx dg      (custom_norm: the same)
//   add_layer_norm  fwd  r x g b -> s y           bwd  s g ds dy -> dx dg db (dr equals dx)
//   post_norm_gelu  fwd  x g b -> y               bwd  x g dy -> dx dg db
//   batch_norm_m.   fwd  x mask g b -> y          bwd  x mask g dy -> dx dg db
// train: the forward's inputs and the seeds read, the forward's outputs and the gradients
// written (the backward's reads of what the forward wrote are the implementation's business).
inline traffic minimal(graph g, pass p) {
    const auto both = [](traffic fwd, traffic bwd_seeds, traffic bwd_out) {
        return traffic{fwd.acts + bwd_seeds.acts + bwd_out.acts, fwd.per_feature + bwd_out.per_feature,
                       fwd.per_token};
    };
    switch (g) {
        case graph::layer_norm:
        case graph::post_norm_gelu:
            if (p == pass::fwd) return {2, 2, 0};
            if (p == pass::bwd) return {3, 3, 0};
            return both({2, 2, 0}, {1, 0, 0}, {1, 2, 0});
        case graph::rms_norm:
        case graph::custom_norm:
            if (p == pass::fwd) return {2, 1, 0};
            if (p == pass::bwd) return {3, 2, 0};
            return both({2, 1, 0}, {1, 0, 0}, {1, 1, 0});
        case graph::add_layer_norm:
            if (p == pass::fwd) return {4, 2, 0};
            if (p == pass::bwd) return {4, 3, 0};
            return both({4, 2, 0}, {2, 0, 0}, {1, 2, 0});
        case graph::batch_norm_masked:
            if (p == pass::fwd) return {2, 2, 1};
            if (p == pass::bwd) return {3, 3, 1};
            return both({2, 2, 1}, {1, 0, 0}, {1, 2, 0});
    }
    return {};
}

// Deterministic data without a random generator's cost at these sizes: values in [-1, 1).
inline void fill(float* data, std::size_t count, unsigned seed) {
    unsigned state = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < count; ++i) {
        state = state * 1664525u + 1013904223u;
        data[i] = static_cast<float>(state >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}
inline std::vector<float> filled(std::size_t count, unsigned seed) {
    std::vector<float> v(count);
    fill(v.data(), count, seed);
    return v;
}
// A padding mask: 1 for most tokens, 0 for every seventh (deterministic).
inline std::vector<float> mask_of(std::size_t tokens) {
    std::vector<float> m(tokens);
    for (std::size_t t = 0; t < tokens; ++t) m[t] = t % 7 == 6 ? 0.0f : 1.0f;
    return m;
}
// The seed of each named array, so that x (or g, dy, ...) holds the same values for every impl.
inline unsigned seed_of(const char* name) {
    unsigned hash = 2166136261u;
    for (const char* c = name; *c; ++c) hash = (hash ^ static_cast<unsigned char>(*c)) * 16777619u;
    return hash;
}

inline long minor_faults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// Times call() after one untimed call (which sizes workspaces and touches fresh pages, as no
// later call does). bytes_per_second counts the minimal traffic; page_faults counts the minor
// page faults per timed call, which must be 0: no benchmark times allocation or first touch.
template <class Call>
void measure(benchmark::State& state, std::size_t bytes_per_call, Call&& call) {
    call();
    const long faults_before = minor_faults();
    for (auto _ : state) {
        call();
        benchmark::ClobberMemory();
    }
    const long faults = minor_faults() - faults_before;
    state.counters["bytes_per_second"] =
        benchmark::Counter(static_cast<double>(bytes_per_call), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["page_faults"] =
        benchmark::Counter(static_cast<double>(faults), benchmark::Counter::kAvgIterations);
}

// Times pass p of a case that has forward() and backward(): fwd the forward; bwd the backward,
// after one untimed forward (whose saved statistics it reads); train both.
template <class Case>
void measure_pass(benchmark::State& state, pass p, std::size_t bytes_per_call, Case& c) {
    switch (p) {
        case pass::fwd: measure(state, bytes_per_call, [&] { c.forward(); }); break;
        case pass::bwd:
            c.forward();
            measure(state, bytes_per_call, [&] { c.backward(); });
            break;
        case pass::train:
            measure(state, bytes_per_call, [&] {
                c.forward();
                c.backward();
            });
            break;
    }
}

// <graph>/<pass>/<impl>/<T>x<D>/threads:<n>
inline std::string benchmark_name(const std::string& graph_pass, const std::string& impl, shape s, int threads) {
    return graph_pass + "/" + impl + "/" + std::to_string(s.tokens) + "x" + std::to_string(s.features) +
           "/threads:" + std::to_string(threads);
}

// Registers run(state, shape, threads) as <graph>/<pass>/<impl>/<T>x<D>/threads:<n>, for every
// shape and thread count (an implementation without threads: max_threads 1); run measures with
// measure(state, minimal(g, p).bytes(s), ...).
template <class Run>
void add(graph g, pass p, const std::string& impl, Run run, int max_threads = thread_counts.back()) {
    for (const shape s : shapes)
        for (const int threads : thread_counts)
            if (threads <= max_threads)
            benchmark::RegisterBenchmark(
                benchmark_name(std::string(name_of(g)) + "/" + name_of(p), impl, s, threads).c_str(),
                [run, s, threads](benchmark::State& state) { run(state, s, threads); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
}

}  // namespace bench
