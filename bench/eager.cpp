// The eager baseline (the interpreter in float: one loop per node, every intermediate in memory)
// beside a STREAM-like copy, at the shapes the fused kernels will be measured at.
#include <cstddef>
#include <random>

#include <benchmark/benchmark.h>

#include <etna/etna.hpp>

namespace {

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

tensor<float> random_tensor(std::size_t rows, std::size_t cols, unsigned seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    tensor<float> t(rows, cols);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = normal(generator);
    return t;
}

// Minimal traffic: every input read once and every output written once, in bytes.
void report_bytes(benchmark::State& state, std::size_t bytes_per_iteration) {
    state.counters["bytes_per_second"] =
        benchmark::Counter(static_cast<double>(bytes_per_iteration), benchmark::Counter::kIsIterationInvariantRate);
}

// STREAM copy: one array read, one written.
void stream_copy(benchmark::State& state, std::size_t tokens, std::size_t features) {
    const auto in = random_tensor(tokens, features, 1);
    tensor<float> out(tokens, features, 0.0f);
    for (auto _ : state) {
        std::copy_n(in.data(), in.size(), out.data());
        benchmark::ClobberMemory();
    }
    report_bytes(state, 2 * in.size() * sizeof(float));
}

void layer_norm_eager(benchmark::State& state, std::size_t tokens, std::size_t features) {
    const auto X = random_tensor(tokens, features, 2), G = random_tensor(1, features, 3), B = random_tensor(1, features, 4);
    interpreter<float, decltype(layer_norm(x, g, b))> eager;
    for (auto _ : state) {
        eager.run(x = X, g = G, b = B);
        benchmark::DoNotOptimize(eager.output<0>().data());
    }
    report_bytes(state, (2 * X.size() + 2 * G.size()) * sizeof(float));
}

// The pre-norm residual stream: r + x and its LayerNorm, from one graph.
void add_layer_norm_eager(benchmark::State& state, std::size_t tokens, std::size_t features) {
    const auto X = random_tensor(tokens, features, 5), R = random_tensor(tokens, features, 6);
    const auto G = random_tensor(1, features, 7), B = random_tensor(1, features, 8);
    constexpr auto stream = r + x;
    interpreter<float, decltype(outputs(stream, layer_norm(stream, g, b)))> eager;
    for (auto _ : state) {
        eager.run(x = X, r = R, g = G, b = B);
        benchmark::DoNotOptimize(eager.output<1>().data());
    }
    report_bytes(state, (4 * X.size() + 2 * G.size()) * sizeof(float));
}

}  // namespace

BENCHMARK_CAPTURE(stream_copy, 16384x1024, 16384, 1024)->Name("stream/copy/16384x1024")->UseRealTime();
BENCHMARK_CAPTURE(layer_norm_eager, 16384x1024, 16384, 1024)->Name("layer_norm/fwd/eager/16384x1024")->UseRealTime();
BENCHMARK_CAPTURE(add_layer_norm_eager, 16384x1024, 16384, 1024)->Name("add_layer_norm/fwd/eager/16384x1024")->UseRealTime();

BENCHMARK_MAIN();
