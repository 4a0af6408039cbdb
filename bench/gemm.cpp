// etna's gemm (cpu/gemm.hpp) against OpenBLAS's cblas_sgemm on the products a linear layer's
// token-tiled kernel will run: per thread, a tile of T = 64..256 tokens times a weight of
// 512 x 2048 or 2048 x 512 that every tile of the call reuses. GFLOP/s counts 2 T K N per product.
//   nn: C = A W          (forward, Y = X W)
//   nt: C = A W^T        (dX = dY W^T, W stored as it is for nn)
//   tn: G += A^T B       (dW += X^T dY of a tile)
// Single-threaded (OpenBLAS set to 1 thread), except the `threads:2` rows: two OpenMP threads,
// each its own tile, one shared weight, as the tiled kernel will call them.
#include <cstddef>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>
#include <omp.h>

#include <etna/cpu/gemm.hpp>

#ifdef ETNA_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

std::vector<float> random_floats(std::size_t size, unsigned seed) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> values(size);
    for (auto& v : values) v = uniform(generator);
    return values;
}

// Operands of C = A op(W), or of G += A^T B (B in w, G in c).
struct operands {
    std::vector<float> a, w, c;
};

operands make(std::size_t a_size, std::size_t w_size, std::size_t c_size) {
    return {random_floats(a_size, 1), random_floats(w_size, 2), random_floats(c_size, 3)};
}

std::size_t arg(const benchmark::State& state, int i) { return static_cast<std::size_t>(state.range(i)); }

void count_flops(benchmark::State& state, double products) {
    const double flops = 2.0 * products * static_cast<double>(arg(state, 0) * arg(state, 1) * arg(state, 2));
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

// C = A op(W): W is k x n for nn, n x k (used transposed) for nt.
template <bool Transposed>
void etna_gemm(benchmark::State& state) {
    const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    auto x = make(m * k, k * n, m * n);
    etna::cpu::packed_weight w;
    w.pack(x.w.data(), Transposed ? n : k, Transposed ? k : n, Transposed ? k : n, Transposed);
    for (auto _ : state) {
        etna::cpu::gemm(x.a.data(), k, m, w, x.c.data(), n, false);
        benchmark::DoNotOptimize(x.c.data());
        benchmark::ClobberMemory();
    }
    count_flops(state, 1);
}

void etna_gemm_tn(benchmark::State& state) {
    const std::size_t t = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    auto x = make(t * k, t * n, k * n);
    for (auto _ : state) {
        etna::cpu::gemm_tn(x.a.data(), k, x.w.data(), n, t, k, n, x.c.data(), n);
        benchmark::DoNotOptimize(x.c.data());
        benchmark::ClobberMemory();
    }
    count_flops(state, 1);
}

// Packing a k x n weight, once per kernel call.
template <bool Transposed>
void etna_pack(benchmark::State& state) {
    const std::size_t k = arg(state, 1), n = arg(state, 2);
    const auto w = random_floats(k * n, 2);
    etna::cpu::packed_weight packed;
    for (auto _ : state) {
        packed.pack(w.data(), Transposed ? n : k, Transposed ? k : n, Transposed ? k : n, Transposed);
        benchmark::DoNotOptimize(packed.panels(0));
        benchmark::ClobberMemory();
    }
    state.counters["GB/s"] = benchmark::Counter(8e-9 * static_cast<double>(k * n * state.iterations()),
                                                benchmark::Counter::kIsRate);
}

// Two threads, each C_i = A_i W for its own tile, one packed W.
void etna_gemm_threads(benchmark::State& state) {
    const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    const int threads = static_cast<int>(state.range(3));
    auto x = make(threads * m * k, k * n, threads * m * n);
    etna::cpu::packed_weight w;
    w.pack(x.w.data(), k, n, n, false);
    for (auto _ : state) {
#pragma omp parallel num_threads(threads)
        {
            const auto i = static_cast<std::size_t>(omp_get_thread_num());
            etna::cpu::gemm(x.a.data() + i * m * k, k, m, w, x.c.data() + i * m * n, n, false);
        }
        benchmark::ClobberMemory();
    }
    count_flops(state, threads);
}

#ifdef ETNA_BENCH_OPENBLAS
template <bool Transposed>
void openblas_gemm(benchmark::State& state) {
    const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    auto x = make(m * k, k * n, m * n);
    const int mi = static_cast<int>(m), ki = static_cast<int>(k), ni = static_cast<int>(n);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, Transposed ? CblasTrans : CblasNoTrans, mi, ni, ki, 1.0f, x.a.data(), ki,
                    x.w.data(), Transposed ? ki : ni, 0.0f, x.c.data(), ni);
        benchmark::DoNotOptimize(x.c.data());
        benchmark::ClobberMemory();
    }
    count_flops(state, 1);
}

void openblas_gemm_tn(benchmark::State& state) {
    const std::size_t t = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    auto x = make(t * k, t * n, k * n);
    const int ti = static_cast<int>(t), ki = static_cast<int>(k), ni = static_cast<int>(n);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ki, ni, ti, 1.0f, x.a.data(), ki, x.w.data(), ni, 1.0f,
                    x.c.data(), ni);
        benchmark::DoNotOptimize(x.c.data());
        benchmark::ClobberMemory();
    }
    count_flops(state, 1);
}

void openblas_gemm_threads(benchmark::State& state) {
    const std::size_t m = arg(state, 0), k = arg(state, 1), n = arg(state, 2);
    const int threads = static_cast<int>(state.range(3));
    auto x = make(threads * m * k, k * n, threads * m * n);
    const int mi = static_cast<int>(m), ki = static_cast<int>(k), ni = static_cast<int>(n);
    for (auto _ : state) {
#pragma omp parallel num_threads(threads)
        {
            const auto i = static_cast<std::size_t>(omp_get_thread_num());
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, ni, ki, 1.0f, x.a.data() + i * m * k, ki, x.w.data(),
                        ni, 0.0f, x.c.data() + i * m * n, ni);
        }
        benchmark::ClobberMemory();
    }
    count_flops(state, threads);
}
#endif

// Tiles of 64, 128 and 256 tokens, times (K, N) = (512, 2048) and (2048, 512).
void tiles(benchmark::internal::Benchmark* b) {
    b->ArgNames({"m", "k", "n"});
    for (const long m : {64, 128, 256})
        for (const auto& [k, n] : {std::pair{512L, 2048L}, std::pair{2048L, 512L}}) b->Args({m, k, n});
}

void weight(benchmark::internal::Benchmark* b) { b->ArgNames({"m", "k", "n"})->Args({0, 512, 2048}); }

void two_threads(benchmark::internal::Benchmark* b) {
    b->ArgNames({"m", "k", "n", "threads"})->Args({128, 512, 2048, 2})->UseRealTime();
}

}  // namespace

BENCHMARK(etna_gemm<false>)->Name("nn/etna")->Apply(tiles);
BENCHMARK(etna_gemm<true>)->Name("nt/etna")->Apply(tiles);
BENCHMARK(etna_gemm_tn)->Name("tn/etna")->Apply(tiles);
BENCHMARK(etna_pack<false>)->Name("pack_nn/etna")->Apply(weight);
BENCHMARK(etna_pack<true>)->Name("pack_nt/etna")->Apply(weight);
BENCHMARK(etna_gemm_threads)->Name("nn/etna")->Apply(two_threads);
#ifdef ETNA_BENCH_OPENBLAS
BENCHMARK(openblas_gemm<false>)->Name("nn/openblas")->Apply(tiles);
BENCHMARK(openblas_gemm<true>)->Name("nt/openblas")->Apply(tiles);
BENCHMARK(openblas_gemm_tn)->Name("tn/openblas")->Apply(tiles);
BENCHMARK(openblas_gemm_threads)->Name("nn/openblas")->Apply(two_threads);
#endif

int main(int argc, char** argv) {
#ifdef ETNA_BENCH_OPENBLAS
    openblas_set_num_threads(1);  // one thread per call: the tiled kernel's own threads call it concurrently
#endif
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
