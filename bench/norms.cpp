// etna and the eager interpreter on the matrix of bench/workload.hpp, beside STREAM copy and
// triad measured in the same binary with the same threads. The handwritten kernels and the
// peers register their benchmarks from their own translation units.
//
// A case is a graph, and everything a benchmark needs of it follows from the graph's type: a
// tensor for each leaf the graph reads, shaped by the leaf's kind, bound by name (leaf_data);
// a preallocated buffer for each output (output_data). A pass picks the graph of a case (fwd:
// the expression; bwd: its derived gradient; train: both, the forward saving what the backward
// reads); an impl runs it (etna: the compiled kernel or the vjp pair; eager: the float
// interpreter, one loop per node, single-threaded).
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/hana/contains.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/not.hpp>
#include <boost/hana/tuple.hpp>

#include <etna/etna.hpp>

#include "workload.hpp"

namespace {

using namespace etna;
namespace hana = boost::hana;

constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto padding = mask<"mask">;  // 1 for a real token, 0 for padding (checked on binding)
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto stream = r + x;  // the pre-norm residual stream

// A tensor for each node of Nodes (the leaves a graph reads, or its outputs), shaped by the
// node's kind: T x D, 1 x D, T x 1 or 1 x 1; statistics (a pair's saved row mean, say) in double.
// Leaves are filled from their names' seeds (a PerToken leaf is the padding mask), so x holds the
// same values for every impl; outputs are filled too, which touches their pages before timing.
template <class Nodes>
class tensors;

template <class... Types>
class tensors<hana::tuple<Types...>> {
    template <class E>
    using element_of = std::conditional_t<is_statistic_leaf<E>, double, float>;

    template <class E>
    static tensor<element_of<E>> make(bench::shape s) {
        using K = kind_of<E>;
        tensor<element_of<E>> t(K::has_tokens ? s.tokens : 1, K::has_features ? s.features : 1);
        std::vector<float> values;
        if constexpr (std::is_same_v<K, PerToken>) values = bench::mask_of(t.size());
        else if constexpr (is_leaf<E>) values = bench::filled(t.size(), bench::seed_of(std::string(E::name.view()).c_str()));
        else values = bench::filled(t.size(), 1);
        for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = values[i];
        return t;
    }

public:
    explicit tensors(bench::shape s) : data_{make<typename Types::type>(s)...} {}

    // Leaves: f(leaf = data...), every leaf bound once.
    template <class F>
    void bind(F&& f) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            f((typename Types::type{} = std::get<I>(data_))...);
        }(std::index_sequence_for<Types...>{});
    }

    // Outputs: into(buffer...), output i into buffer i.
    auto into_all() {
        return std::apply([](auto&... buffer) { return into(buffer...); }, data_);
    }

private:
    std::tuple<tensor<element_of<typename Types::type>>...> data_;
};

// What a graph reads (exactly its leaves: a kernel refuses any other binding) and writes.
template <class G>
using leaf_data = tensors<decltype(leaves_of(G{}))>;
template <class G>
using output_data = tensors<std::remove_cv_t<decltype(as_graph_t<G>::roots)>>;

// STREAM copy (one array read, one written) and triad (a = b + s c: two read, one written),
// split over the threads as the kernels split tokens.
void stream_copy(benchmark::State& state, bench::shape s, int threads) {
    const auto in = bench::filled(s.tokens * s.features, 1);
    auto out = bench::filled(s.tokens * s.features, 2);
    const auto count = static_cast<std::ptrdiff_t>(in.size());
    bench::measure(state, 2 * in.size() * sizeof(float), [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t i = 0; i < count; ++i) out[i] = in[i];
    });
}
void stream_triad(benchmark::State& state, bench::shape s, int threads) {
    const auto in = bench::filled(s.tokens * s.features, 1);
    const auto scaled = bench::filled(s.tokens * s.features, 2);
    auto out = bench::filled(s.tokens * s.features, 3);
    const auto count = static_cast<std::ptrdiff_t>(in.size());
    bench::measure(state, 3 * in.size() * sizeof(float), [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t i = 0; i < count; ++i) out[i] = in[i] + 3.0f * scaled[i];
    });
}

// etna fwd: compile(graph), writing into preallocated outputs: one loop nest per call.
template <class G>
void fused(benchmark::State& state, bench::traffic traffic, bench::shape s, int threads) {
    const leaf_data<G> in(s);
    output_data<G> out(s);
    auto kernel = compile(G{});
    kernel.set_threads(threads);
    const auto buffers = out.into_all();
    bench::measure(state, traffic.bytes(s), [&] {
        in.bind([&](const auto&... bindings) { kernel(buffers, bindings...); });
    });
}

// eager: the float interpreter of the same graph, one loop per node and every intermediate in
// memory; it keeps its buffers, the outputs among them, from one run to the next.
template <class G>
void eager(benchmark::State& state, bench::traffic traffic, bench::shape s, int) {
    const leaf_data<G> in(s);
    interpreter<float, G> interpreted;
    bench::measure(state, traffic.bytes(s), [&] {
        in.bind([&](const auto&... bindings) { interpreted.run(bindings...); });
        benchmark::DoNotOptimize(interpreted.template output<0>().data());
    });
}

// The training pair of Y with respect to Wrt: its forward writes Y's outputs and saves the
// statistics, its backward reads them (and the forward's leaves) and writes the gradients.
template <class Y, class Wrt>
struct pair_case {
    using pair_type = decltype(vjp(Y{}, Wrt{}));
    using gradients = std::remove_cv_t<decltype(grad(Y{}, Wrt{}))>;
    // The gradients' leaves that Y does not read: the seeds.
    using seeds = decltype(hana::filter(leaves_of(gradients{}), [](auto leaf) { return hana::not_(hana::contains(leaves_of(Y{}), leaf)); }));

    pair_type pair;
    const leaf_data<Y> in;  // bound to the forward and again to the backward
    const tensors<seeds> seeded;
    output_data<Y> y;
    output_data<gradients> d;

    pair_case(bench::shape s, int threads) : in(s), seeded(s), y(s), d(s) { pair.set_threads(threads); }

    void forward() {
        in.bind([&](const auto&... bindings) { pair.forward(y.into_all(), bindings...); });
    }
    void backward() {
        in.bind([&](const auto&... bindings) {
            seeded.bind([&](const auto&... seeds) { pair.backward(d.into_all(), bindings..., seeds...); });
        });
    }
};

// etna bwd: the pair's backward, after an untimed forward.
template <class Y, class Wrt>
void pair_backward(benchmark::State& state, bench::traffic traffic, bench::shape s, int threads) {
    pair_case<Y, Wrt> c(s, threads);
    c.forward();
    bench::measure(state, traffic.bytes(s), [&] { c.backward(); });
}

// etna train: the pair's forward and backward.
template <class Y, class Wrt>
void pair_train(benchmark::State& state, bench::traffic traffic, bench::shape s, int threads) {
    pair_case<Y, Wrt> c(s, threads);
    bench::measure(state, traffic.bytes(s), [&] {
        c.forward();
        c.backward();
    });
}

// eager train: the interpreter of y, then the interpreter of its derived gradient (which
// recomputes what it needs of the forward: the interpreter saves nothing between graphs).
template <class Y, class Wrt>
void eager_train(benchmark::State& state, bench::traffic traffic, bench::shape s, int) {
    using gradients = typename pair_case<Y, Wrt>::gradients;
    const leaf_data<Y> in(s);
    const leaf_data<gradients> backward_in(s);
    interpreter<float, Y> forward;
    interpreter<float, gradients> backward;
    bench::measure(state, traffic.bytes(s), [&] {
        in.bind([&](const auto&... bindings) { forward.run(bindings...); });
        backward_in.bind([&](const auto&... bindings) { backward.run(bindings...); });
        benchmark::DoNotOptimize(backward.template output<0>().data());
    });
}

// Registers impl for graph g and pass p, with p's minimal traffic.
template <auto Run>
void add(bench::graph g, bench::pass p, const char* impl, int max_threads = bench::thread_counts.back()) {
    const bench::traffic traffic = bench::minimal(g, p);
    bench::add(g, p, impl, [traffic](benchmark::State& state, bench::shape s, int threads) { Run(state, traffic, s, threads); },
               max_threads);
}

// A graph's three passes, etna and eager: fwd, the expression Y; bwd, its gradient with respect
// to the leaves of Wrt (etna: the pair's backward; eager: the interpreter of the gradient graph);
// train, both.
template <class Y, class Wrt>
void add_graph(bench::graph graph, Y, Wrt) {
    using gradients = typename pair_case<Y, Wrt>::gradients;
    add<fused<Y>>(graph, bench::pass::fwd, "etna");
    add<eager<Y>>(graph, bench::pass::fwd, "eager", 1);
    add<pair_backward<Y, Wrt>>(graph, bench::pass::bwd, "etna");
    add<eager<gradients>>(graph, bench::pass::bwd, "eager", 1);
    add<pair_train<Y, Wrt>>(graph, bench::pass::train, "etna");
    add<eager_train<Y, Wrt>>(graph, bench::pass::train, "eager", 1);
}

void add_stream(const char* name, void (*run)(benchmark::State&, bench::shape, int)) {
    for (const bench::shape s : bench::shapes)
        for (const int threads : bench::thread_counts)
            benchmark::RegisterBenchmark(bench::benchmark_name("stream", name, s, threads).c_str(),
                                         [run, s, threads](benchmark::State& state) { run(state, s, threads); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
}

const int registered = [] {
    using bench::graph;
    add_stream("copy", stream_copy);
    add_stream("triad", stream_triad);
    add_graph(graph::layer_norm, layer_norm(x, g, b), wrt(x, g, b));
    add_graph(graph::rms_norm, rms_norm(x, g), wrt(x, g));
    add_graph(graph::add_layer_norm, outputs(stream, layer_norm(stream, g, b)), wrt(x, g, b));
    add_graph(graph::post_norm_gelu, layer_norm(x + gelu(x), g, b), wrt(x, g, b));
    add_graph(graph::batch_norm_masked, batch_norm_masked(x, padding, g, b), wrt(x, g, b));
    add_graph(graph::custom_norm, x * rsqrt(mean_f(x * x) + constant<1e-5>) * g + x, wrt(x, g));
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
