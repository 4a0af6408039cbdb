// Fused kernels against the eager interpreter (one loop per node, every intermediate in memory),
// beside a STREAM-like copy measured in the same binary with the same threads.
#include <cstddef>
#include <string>

#include <benchmark/benchmark.h>

#include <etna/etna.hpp>

namespace {

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

constexpr auto layer_norm_graph = layer_norm(x, g, b);
constexpr auto stream = r + x;  // the pre-norm residual stream: r + x and its LayerNorm
constexpr auto add_layer_norm_graph = outputs(stream, layer_norm(stream, g, b));

constexpr std::size_t tokens = 16384;
constexpr std::size_t features = 1024;

// Deterministic data without a random generator's cost at these sizes: values in [-1, 1).
tensor<float> filled(std::size_t rows, std::size_t cols, unsigned seed) {
    tensor<float> t(rows, cols);
    unsigned state = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < t.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        t.data()[i] = static_cast<float>(state >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    return t;
}

// Minimal traffic: every input read once and every output written once.
void report(benchmark::State& state, std::size_t bytes_per_iteration) {
    state.counters["bytes_per_second"] =
        benchmark::Counter(static_cast<double>(bytes_per_iteration), benchmark::Counter::kIsIterationInvariantRate);
}

std::string name(const char* graph, const char* impl) {
    return std::string(graph) + "/" + impl + "/" + std::to_string(tokens) + "x" + std::to_string(features);
}

// STREAM copy: one array read, one written, split over the threads as the kernels split tokens.
void stream_copy(benchmark::State& state) {
    const tensor<float> in = filled(tokens, features, 1);
    tensor<float> out(tokens, features);
    const auto count = static_cast<std::ptrdiff_t>(in.size());
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t i = 0; i < count; ++i) out.data()[i] = in.data()[i];
        benchmark::ClobberMemory();
    }
    report(state, 2 * in.size() * sizeof(float));
}

struct layer_norm_data {
    tensor<float> x = filled(tokens, features, 2);
    tensor<float> g = filled(1, features, 3);
    tensor<float> b = filled(1, features, 4);
    std::size_t bytes = (2 * x.size() + 2 * g.size()) * sizeof(float);  // x, g, b read; y written
};

void layer_norm_etna(benchmark::State& state) {
    const layer_norm_data d;
    tensor<float> y(tokens, features);
    auto kernel = compile(layer_norm_graph);
    for (auto _ : state) {
        kernel(into(y), x = d.x, g = d.g, b = d.b);
        benchmark::ClobberMemory();
    }
    report(state, d.bytes);
}

void layer_norm_eager(benchmark::State& state) {
    const layer_norm_data d;
    interpreter<float, decltype(layer_norm_graph)> eager;
    for (auto _ : state) {
        eager.run(x = d.x, g = d.g, b = d.b);
        benchmark::DoNotOptimize(eager.output<0>().data());
    }
    report(state, d.bytes);
}

struct add_layer_norm_data {
    tensor<float> x = filled(tokens, features, 5);
    tensor<float> r = filled(tokens, features, 6);
    tensor<float> g = filled(1, features, 7);
    tensor<float> b = filled(1, features, 8);
    std::size_t bytes = (4 * x.size() + 2 * g.size()) * sizeof(float);  // x, r, g, b read; r + x, LN written
};

void add_layer_norm_etna(benchmark::State& state) {
    const add_layer_norm_data d;
    tensor<float> sum(tokens, features), normalized(tokens, features);
    auto kernel = compile(add_layer_norm_graph);
    for (auto _ : state) {
        kernel(into(sum, normalized), x = d.x, r = d.r, g = d.g, b = d.b);
        benchmark::ClobberMemory();
    }
    report(state, d.bytes);
}

void add_layer_norm_eager(benchmark::State& state) {
    const add_layer_norm_data d;
    interpreter<float, decltype(add_layer_norm_graph)> eager;
    for (auto _ : state) {
        eager.run(x = d.x, r = d.r, g = d.g, b = d.b);
        benchmark::DoNotOptimize(eager.output<1>().data());
    }
    report(state, d.bytes);
}

const int registered = [] {
    benchmark::RegisterBenchmark(name("stream", "copy").c_str(), stream_copy)->UseRealTime();
    benchmark::RegisterBenchmark(name("layer_norm/fwd", "etna").c_str(), layer_norm_etna)->UseRealTime();
    benchmark::RegisterBenchmark(name("layer_norm/fwd", "eager").c_str(), layer_norm_eager)->UseRealTime();
    benchmark::RegisterBenchmark(name("add_layer_norm/fwd", "etna").c_str(), add_layer_norm_etna)->UseRealTime();
    benchmark::RegisterBenchmark(name("add_layer_norm/fwd", "eager").c_str(), add_layer_norm_eager)->UseRealTime();
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
