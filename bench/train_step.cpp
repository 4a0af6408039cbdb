// One training step (forward, backward, AdamW) of a stack of pre-norm FFN blocks: etna's model,
// LibTorch's (an optional peer), and the floor of the step, its GEMMs alone in etna's own GEMM.
// Then, for one block, what saving the FFN's first matmul result (the GELU's input) in the
// forward saves its backward, against a backward that recomputes it.
//
// The workload (issue 6, item 6), float, T = 4096 tokens, d = 512, ff = 2048, 12 blocks:
//   block  y = x + ffn(LN(x)), ffn(h) = linear(gelu(linear(h, W1, b1)), W2, b2), GELU with erf
//   head   linear(LN(x; gf, bf), Wo, bo), d -> d
//   loss   mse_loss(head, target), fixed random targets
//   AdamW  lr 1e-4, betas 0.9 / 0.999, eps 1e-8, weight decay 0.01 on the weights only
// Rows, train_step/<impl>/threads:N with N = 1, 2:
//   etna        model<block, head, loss>::train_step (the model and data built once)
//   libtorch    the same model in LibTorch's C++ API (peers/libtorch_train.cpp), when found
//   gemm_floor  the GEMMs of the step as etna's tiled kernels run them (gemm_floor, below)
// GFLOP/s counts the step's GEMMs, 2 m n k each: 12 T d ff per block (2 forward, 4 backward)
// and 6 T d d for the head, the same count for every row. A first untimed step checks that
// the loss is finite; page_faults and preemptions (involuntary context switches of the
// process) per step tell whether a time includes first touches of memory or another load.
//   block_backward/pair_saved   the backward of vjp(block, wrt(x, parameters...)), reading the
//                               matmul result its forward saved (the forward run once, untimed)
//   block_backward/recomputed   compile(grad(block, wrt(...))): the same gradients, recomputing
//                               the forward, that GEMM included
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <benchmark/benchmark.h>
#include <omp.h>
#include <sys/resource.h>

#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include "workload.hpp"

#ifdef ETNA_BENCH_LIBTORCH
// bench/peers/libtorch_train.cpp: LibTorch's model and optimizer, built and settled; their step,
// returning the loss before it, under LibTorch's thread count `threads` while the step lives.
std::function<double()> libtorch_train_step(int threads, std::int64_t depth, std::int64_t tokens, std::int64_t d,
                                            std::int64_t ff, double learning_rate, double beta1, double beta2,
                                            double epsilon, double weight_decay);
#endif

namespace {

using namespace etna;

constexpr std::size_t depth = 12, tokens = 4096, d = 512, ff = 2048;
constexpr adamw_options optimizer_options{1e-4, 0.9, 0.999, 1e-8, 0.01};
constexpr double step_flops = 12.0 * depth * tokens * d * ff + 6.0 * tokens * d * d;

// The model, as expressions.
constexpr auto x = input<"x">;  // the residual stream: T x d
constexpr auto W1 = weight<"W1", "d", "ff">;
constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
constexpr auto W2 = weight<"W2", "ff", "d">;
constexpr auto b2 = param<"b2">;
constexpr auto g = param<"ln.g">;
constexpr auto b = param<"ln.b">;
constexpr auto block = pre_norm(x, [](auto v) { return layer_norm(v, g, b); },
                                [](auto h) { return ffn(h, W1, b1, W2, b2); });
constexpr auto head = linear(layer_norm(x, param<"lnf.g">, param<"lnf.b">), weight<"Wo", "d", "d">, param<"bo">);
constexpr auto loss = mse_loss(input<"y">, input<"target">);
using stack = model<std::remove_cv_t<decltype(block)>, std::remove_cv_t<decltype(head)>, std::remove_cv_t<decltype(loss)>>;

tensor<float> filled(std::size_t rows, std::size_t cols, const char* name, double scale = 1.0) {
    tensor<float> t(rows, cols);
    bench::fill(t.data(), t.size(), bench::seed_of(name));
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(t.data()[i] * scale);
    return t;
}

long involuntary_switches() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_nivcsw;
}

// Times step() after one untimed call, which must give a finite loss (and sizes every buffer).
template <class Step>
void measure_step(benchmark::State& state, Step&& step) {
    if (const double first = step(); !std::isfinite(first)) {
        state.SkipWithError(("the first step's loss is not finite: " + std::to_string(first)).c_str());
        return;
    }
    const long faults_before = bench::minor_faults(), switches_before = involuntary_switches();
    for (auto _ : state) benchmark::DoNotOptimize(step());
    state.counters["GFLOP/s"] = benchmark::Counter(step_flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["page_faults"] =
        benchmark::Counter(static_cast<double>(bench::minor_faults() - faults_before), benchmark::Counter::kAvgIterations);
    state.counters["preemptions"] =
        benchmark::Counter(static_cast<double>(involuntary_switches() - switches_before), benchmark::Counter::kAvgIterations);
}

void etna_step(benchmark::State& state, int threads) {
    model_config config;
    config.axes = {{"d", d}, {"ff", ff}};
    config.starts = {{"ln.g", initialization::filled(1.0)}, {"lnf.g", initialization::filled(1.0)}};
    config.depth = depth;
    config.threads = threads;
    stack net(config);
    adamw optimizer(optimizer_options);
    optimizer.set_threads(threads);
    const tensor<float> inputs = filled(tokens, d, "inputs"), targets = filled(tokens, d, "targets");
    measure_step(state, [&] { return net.train_step(inputs.view(), targets.view(), optimizer, optimizer_options.learning_rate); });
}

// The GEMMs of etna's step and nothing else, decomposed as its tiled kernels decompose them
// (cpu/tile_runner.hpp): per kernel call, its weights packed by the threads, then tiles
// of 64 tokens split statically over the threads, each thread with its own tiles (L2-resident)
// and its own partial sums of the weight gradients. A kernel reads the rows of a bound array
// where it reads a leaf (the backward's dy), a tile where it reads a value computed in the tile.
// Per block, forward U = H W1, Y = A W2; backward dA = dY W2ᵀ, dW2 += Aᵀ dY, dH = dU W1ᵀ,
// dW1 += Hᵀ dU; the head: Y = H Wo; dH = dY Woᵀ, dWo += Hᵀ dY. Left out: the norms, the GELU and
// its derivative, the biases, the copies of saved values, the merge of the threads' partial
// sums, the loss and the optimizer.
class gemm_floor {
public:
    explicit gemm_floor(int threads) : threads_(threads) {
        for (std::size_t l = 0; l < depth; ++l) {
            const std::string layer = "layer" + std::to_string(l);
            w1_.push_back(filled(d, ff, (layer + ".W1").c_str(), 1 / std::sqrt(double(d))));
            w2_.push_back(filled(ff, d, (layer + ".W2").c_str(), 1 / std::sqrt(double(ff))));
        }
        for (int t = 0; t < threads; ++t) tiles_.emplace_back();
    }

    double step() {
        for (std::size_t l = 0; l < depth; ++l) {
            first_.pack(w1_[l].data(), d, ff, ff, false, cpu::best_gemm_isa(), threads_);
            second_.pack(w2_[l].data(), ff, d, d, false, cpu::best_gemm_isa(), threads_);
            over_tiles([&](thread_tiles& t, std::size_t) {
                cpu::gemm(t.h.data(), d, tile_tokens, first_, t.u.data(), ff, false);
                cpu::gemm(t.a.data(), ff, tile_tokens, second_, t.y.data(), d, false);
            });
        }
        first_.pack(wo_.data(), d, d, d, false, cpu::best_gemm_isa(), threads_);
        over_tiles([&](thread_tiles& t, std::size_t) { cpu::gemm(t.h.data(), d, tile_tokens, first_, t.y.data(), d, false); });
        first_.pack(wo_.data(), d, d, d, true, cpu::best_gemm_isa(), threads_);
        over_tiles([&](thread_tiles& t, std::size_t row) {
            const float* dy = dy_.data() + row * d;
            cpu::gemm(dy, d, tile_tokens, first_, t.dh.data(), d, false);
            cpu::gemm_tn(t.h.data(), d, dy, d, tile_tokens, d, d, t.dwo.data(), d);
        });
        for (std::size_t l = depth; l-- > 0;) {
            second_.pack(w2_[l].data(), ff, d, d, true, cpu::best_gemm_isa(), threads_);
            first_.pack(w1_[l].data(), d, ff, ff, true, cpu::best_gemm_isa(), threads_);
            over_tiles([&](thread_tiles& t, std::size_t row) {
                const float* dy = dy_.data() + row * d;
                cpu::gemm(dy, d, tile_tokens, second_, t.da.data(), ff, false);
                cpu::gemm_tn(t.a.data(), ff, dy, d, tile_tokens, ff, d, t.dw2.data(), d);
                cpu::gemm(t.du.data(), ff, tile_tokens, first_, t.dh.data(), d, false);
                cpu::gemm_tn(t.h.data(), d, t.du.data(), ff, tile_tokens, d, ff, t.dw1.data(), ff);
            });
        }
        return tiles_[0].dw1(0, 0);
    }

private:
    static constexpr std::size_t tile_tokens = cpu::default_tile_tokens;
    static_assert(tokens % tile_tokens == 0, "the floor runs whole tiles");

    // One thread's tiles and partial sums. The operands are filled (finite values); what the
    // GEMMs write is never read back as an operand, so the values stay bounded.
    struct thread_tiles {
        tensor<float> h = filled(tile_tokens, d, "h"), a = filled(tile_tokens, ff, "a"), du = filled(tile_tokens, ff, "du");
        tensor<float> u{tile_tokens, ff, 0.0f}, y{tile_tokens, d, 0.0f}, da{tile_tokens, ff, 0.0f}, dh{tile_tokens, d, 0.0f};
        tensor<float> dw1{d, ff, 0.0f}, dw2{ff, d, 0.0f}, dwo{d, d, 0.0f};
    };

    template <class F>
    void over_tiles(F&& f) {
        constexpr auto tile_count = static_cast<std::ptrdiff_t>(tokens / tile_tokens);
#pragma omp parallel for num_threads(threads_) schedule(static)
        for (std::ptrdiff_t k = 0; k < tile_count; ++k)
            f(tiles_[static_cast<std::size_t>(omp_get_thread_num())], static_cast<std::size_t>(k) * tile_tokens);
    }

    int threads_;
    std::vector<tensor<float>> w1_, w2_;
    tensor<float> wo_ = filled(d, d, "Wo", 1 / std::sqrt(double(d)));
    tensor<float> dy_ = filled(tokens, d, "dy");
    cpu::packed_weight first_, second_;
    std::vector<thread_tiles> tiles_;
};

#ifdef ETNA_BENCH_LIBTORCH
void libtorch_step(benchmark::State& state, int threads) {
    const auto& o = optimizer_options;
    measure_step(state, libtorch_train_step(threads, depth, tokens, d, ff, o.learning_rate, o.beta1, o.beta2, o.epsilon,
                                            o.weight_decay));
}
#endif

void floor_step(benchmark::State& state, int threads) {
    gemm_floor floor(threads);
    measure_step(state, [&] { return floor.step(); });
}

// One block's data (parameters scaled as the model starts them), its seed dy, and buffers for
// its output and its gradients, bound by leaf.
struct block_data {
    tensor<float> xs = filled(tokens, d, "x"), gain{1, d, 1.0f}, bias = filled(1, d, "ln.b", 0.1);
    tensor<float> w1 = filled(d, ff, "W1", 1 / std::sqrt(double(d))), bias1 = filled(1, ff, "b1", 0.1);
    tensor<float> w2 = filled(ff, d, "W2", 1 / std::sqrt(double(ff))), bias2 = filled(1, d, "b2", 0.1);
    tensor<float> dy = filled(tokens, d, "dy");
    tensor<float> y{tokens, d}, dx{tokens, d}, dg{1, d}, db{1, d}, dw1{d, ff}, db1{1, ff}, dw2{ff, d}, db2{1, d};

    template <class F>
    void bind(F&& f) const {
        f(x = xs, g = gain, b = bias, W1 = w1, b1 = bias1, W2 = w2, b2 = bias2);
    }
    auto gradients() { return into(dx, dg, db, dw1, db1, dw2, db2); }
};

constexpr auto block_wrt = wrt(x, g, b, W1, b1, W2, b2);

// Times backward() after one untimed call.
template <class Backward>
void measure_backward(benchmark::State& state, Backward&& backward) {
    backward();
    const long faults_before = bench::minor_faults();
    for (auto _ : state) {
        backward();
        benchmark::ClobberMemory();
    }
    state.counters["page_faults"] =
        benchmark::Counter(static_cast<double>(bench::minor_faults() - faults_before), benchmark::Counter::kAvgIterations);
}

void pair_saved(benchmark::State& state, int threads) {
    block_data data;
    auto pair = vjp(block, block_wrt);
    pair.set_threads(threads);
    data.bind([&](const auto&... bound) { pair.forward(into(data.y), bound...); });
    measure_backward(state, [&] {
        data.bind([&](const auto&... bound) { pair.backward(data.gradients(), bound..., input<"dy"> = data.dy); });
    });
}

void recomputed(benchmark::State& state, int threads) {
    block_data data;
    auto gradient = compile(grad(block, block_wrt));
    gradient.set_threads(threads);
    using gradient_graph = std::remove_cv_t<decltype(grad(block, block_wrt))>;
    measure_backward(state, [&] {
        data.bind([&](const auto&... bound) {
            with_bindings_of<gradient_graph>([&](const auto&... read) { gradient(data.gradients(), read...); }, bound...,
                                             input<"dy"> = data.dy);
        });
    });
}

void add(const std::string& name, void (*run)(benchmark::State&, int), int threads) {
    benchmark::RegisterBenchmark((name + "/threads:" + std::to_string(threads)).c_str(),
                                 [run, threads](benchmark::State& state) { run(state, threads); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
}

const int registered = [] {
    for (const int threads : bench::thread_counts) {
        add("train_step/etna", etna_step, threads);
#ifdef ETNA_BENCH_LIBTORCH
        add("train_step/libtorch", libtorch_step, threads);
#endif
        add("train_step/gemm_floor", floor_step, threads);
    }
    add("block_backward/pair_saved", pair_saved, 2);
    add("block_backward/recomputed", recomputed, 2);
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
