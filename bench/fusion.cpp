// Fused kernels against the eager interpreter (one loop per node, every intermediate in memory),
// beside a STREAM-like copy measured in the same binary with the same threads.
//
// A benchmark is <graph>/<pass>/<impl>/<T>x<D>. A case is a graph, and everything a benchmark
// needs of it follows from the graph's type: a tensor for each leaf the graph reads, shaped by
// the leaf's kind, bound by name (inputs_of); a preallocated buffer for each output
// (outputs_of); the minimal traffic (each input read once, each output written once). A pass
// picks the graph of a case (fwd: the expression; bwd: its derived gradient; train: both, the
// forward saving what the backward reads); an impl runs it (etna: the compiled kernel or the
// vjp pair, eager: the float interpreter); measure times it.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <benchmark/benchmark.h>
#include <boost/hana/tuple.hpp>

#include <etna/etna.hpp>

namespace {

using namespace etna;
namespace hana = boost::hana;

constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto stream = r + x;  // the pre-norm residual stream: r + x and its LayerNorm

constexpr std::size_t tokens = 16384;
constexpr std::size_t features = 1024;

// The shape of a value of kind K at the benchmark's size: T x D, 1 x D, T x 1 or 1 x 1.
template <a_kind K>
constexpr std::size_t rows_of = K::has_tokens ? tokens : 1;
template <a_kind K>
constexpr std::size_t cols_of = K::has_features ? features : 1;
// The bytes of node E's values: floats, or doubles for a statistic (a training pair's saved row
// mean, say).
template <class E>
constexpr std::size_t bytes_of =
    rows_of<kind_of<E>> * cols_of<kind_of<E>> * (is_statistic_leaf<E> ? sizeof(double) : sizeof(float));

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

// A leaf's seed from its name (FNV-1a): a leaf holds the same values in every benchmark.
template <class Node>
constexpr unsigned seed_of() {
    unsigned hash = 2166136261u;
    if constexpr (is_leaf<Node>)
        for (const char c : Node::name.view()) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    return hash;
}

// A float tensor for each node of Nodes (the leaves a graph reads, or its outputs), of the
// node's kind's shape, filled once (the pages of an output buffer are touched before timing).
template <class Nodes>
class tensors;

template <class... Types>
class tensors<hana::tuple<Types...>> {
public:
    static constexpr std::size_t bytes = (std::size_t{0} + ... + bytes_of<typename Types::type>);

    // Leaves: f(leaf = data...), every leaf bound once.
    template <class F>
    void bind(F&& f) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            f((typename Types::type{} = data_[I])...);
        }(std::index_sequence_for<Types...>{});
    }

    // Outputs: into(buffer...), output i into buffer i.
    auto into_all() {
        return std::apply([](auto&... buffer) { return into(buffer...); }, data_);
    }

private:
    std::array<tensor<float>, sizeof...(Types)> data_{
        filled(rows_of<kind_of<typename Types::type>>, cols_of<kind_of<typename Types::type>>,
               seed_of<typename Types::type>())...};
};

// What a graph reads (exactly its leaves: a kernel refuses any other binding) and writes.
template <class G>
using inputs_of = tensors<decltype(leaves_of(G{}))>;
template <class G>
using outputs_of = tensors<std::remove_cv_t<decltype(as_graph_t<G>::roots)>>;

// Minimal traffic: every input read once and every output written once, in float.
template <class G>
constexpr std::size_t minimal_bytes = inputs_of<G>::bytes + outputs_of<G>::bytes;

// Times call(), after one untimed call: a first call sizes a kernel's workspace or the
// interpreter's buffers and touches their pages, which no later call does. bytes_per_second
// counts the given minimal traffic per call.
template <class Call>
void measure(benchmark::State& state, std::size_t bytes_per_call, Call call) {
    call();
    for (auto _ : state) {
        call();
        benchmark::ClobberMemory();
    }
    state.counters["bytes_per_second"] =
        benchmark::Counter(static_cast<double>(bytes_per_call), benchmark::Counter::kIsIterationInvariantRate);
}

// STREAM copy: one array read, one written, split over the threads as the kernels split tokens.
void stream_copy(benchmark::State& state) {
    const tensor<float> in = filled(tokens, features, 1);
    tensor<float> out(tokens, features);
    const auto count = static_cast<std::ptrdiff_t>(in.size());
    measure(state, 2 * in.size() * sizeof(float), [&] {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t i = 0; i < count; ++i) out.data()[i] = in.data()[i];
    });
}

// etna: compile(graph), writing into preallocated outputs: one loop nest per call.
template <class G>
void fused(benchmark::State& state) {
    const inputs_of<G> in;
    outputs_of<G> out;
    auto kernel = compile(G{});
    const auto buffers = out.into_all();
    measure(state, minimal_bytes<G>, [&] {
        in.bind([&](const auto&... bindings) { kernel(buffers, bindings...); });
    });
}

// eager: the float interpreter of the same graph, one loop per node and every intermediate in
// memory; it keeps its buffers, the outputs among them, from one run to the next.
template <class G>
void eager(benchmark::State& state) {
    const inputs_of<G> in;
    interpreter<float, G> interpreted;
    measure(state, minimal_bytes<G>, [&] {
        in.bind([&](const auto&... bindings) { interpreted.run(bindings...); });
        benchmark::DoNotOptimize(interpreted.template output<0>().data());
    });
}

// The training pair of Y with respect to Wrt: its forward writes y and saves the statistics,
// its backward reads them (and the forward's tensors) and writes the gradients.
template <class Y, class Wrt>
struct pair_case {
    using pair_type = decltype(vjp(Y{}, Wrt{}));
    using gradients = std::remove_cv_t<decltype(grad(Y{}, Wrt{}))>;
    using seed = leaf<leaf_role::input, "dy", kind_of<Y>>;

    pair_type pair;
    const inputs_of<Y> in;  // x, g, b: bound to the forward and again to the backward
    const tensors<hana::tuple<hana::type<seed>>> dy;
    outputs_of<Y> y;
    outputs_of<gradients> d;

    static constexpr std::size_t train_bytes =
        inputs_of<Y>::bytes + decltype(dy)::bytes + outputs_of<Y>::bytes + outputs_of<gradients>::bytes;

    void forward() {
        in.bind([&](const auto&... bindings) { pair.forward(y.into_all(), bindings...); });
    }
    void backward() {
        in.bind([&](const auto&... bindings) {
            dy.bind([&](const auto& seeded) { pair.backward(d.into_all(), bindings..., seeded); });
        });
    }
};

// etna bwd: the pair's backward, after an untimed forward. Minimal traffic: what the backward
// reads (the leaves it reads, the seed, the saved statistics) and writes.
template <class Y, class Wrt>
void pair_backward(benchmark::State& state) {
    pair_case<Y, Wrt> c;
    c.forward();
    measure(state, minimal_bytes<typename pair_case<Y, Wrt>::pair_type::backward_graph>, [&] { c.backward(); });
}

// etna train: the pair's forward and backward in one call. Minimal traffic: the forward's
// leaves and the seed read once, y and the gradients written once; the saved statistics are
// the pair's business, not the job's.
template <class Y, class Wrt>
void pair_train(benchmark::State& state) {
    pair_case<Y, Wrt> c;
    measure(state, pair_case<Y, Wrt>::train_bytes, [&] {
                c.forward();
                c.backward();
            });
}

// eager train: the interpreter of y, then the interpreter of its derived gradient (which
// recomputes what it needs of the forward: the interpreter saves nothing between graphs).
template <class Y, class Wrt>
void eager_train(benchmark::State& state) {
    using gradients = typename pair_case<Y, Wrt>::gradients;
    const inputs_of<Y> in;
    const inputs_of<gradients> backward_in;
    interpreter<float, Y> forward;
    interpreter<float, gradients> backward;
    measure(state, pair_case<Y, Wrt>::train_bytes, [&] {
                in.bind([&](const auto&... bindings) { forward.run(bindings...); });
                backward_in.bind([&](const auto&... bindings) { backward.run(bindings...); });
                benchmark::DoNotOptimize(backward.template output<0>().data());
            });
}

void add(const std::string& graph_pass, const char* impl, void (*run)(benchmark::State&)) {
    const std::string name = graph_pass + "/" + impl + "/" + std::to_string(tokens) + "x" + std::to_string(features);
    benchmark::RegisterBenchmark(name.c_str(), run)->UseRealTime();
}

// <graph_pass>/etna and <graph_pass>/eager.
template <class G>
void add_impls(const std::string& graph_pass, G) {
    add(graph_pass, "etna", fused<G>);
    add(graph_pass, "eager", eager<G>);
}

// A norm's passes: fwd, the expression y; bwd, its gradient with respect to the leaves of
// wrt(...), seeded by input<"dy"> (etna: the pair's backward, reading the statistics its
// forward saved; eager: the interpreter of the derived gradient); train, the forward and the
// backward.
template <class Y, class Wrt>
void add_norm(const std::string& graph, Y y, Wrt leaves) {
    add_impls(graph + "/fwd", y);
    add(graph + "/bwd", "etna", pair_backward<Y, Wrt>);
    add(graph + "/bwd", "eager", eager<std::remove_cv_t<decltype(grad(y, leaves))>>);
    add(graph + "/train", "etna", pair_train<Y, Wrt>);
    add(graph + "/train", "eager", eager_train<Y, Wrt>);
}

const int registered = [] {
    add("stream", "copy", stream_copy);
    add_norm("layer_norm", layer_norm(x, g, b), wrt(x, g, b));
    add_impls("add_layer_norm/fwd", outputs(stream, layer_norm(stream, g, b)));
    add_norm("rms_norm", rms_norm(x, g), wrt(x, g));
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
