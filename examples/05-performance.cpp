// Lesson 05: performance: the byte model behind etna's benchmarks, and what fusion saves.
//
// A normalization does a few operations per value it reads, so its time is the time of its
// memory traffic. This lesson counts that traffic from the graphs' types: the minimal traffic
// the benchmarks divide by (every input read once, every output written once), what an eager
// evaluation moves (every intermediate written and read back), and what etna's fused kernels
// move (explain's "memory per token"). It then shows two properties of the kernels that cost
// nothing in memory traffic: float data with mean 1e4 and std 1e-2 normalized to float
// precision, and sums over tokens that give the same bits on every call. No timings: speed is
// measured by bench/bench_norms, never here. It is built as the target 05-performance and run
// by ctest as tutorial.05-performance; docs/tutorial/05-performance.md quotes its source and
// output.

#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <etna/etna.hpp>

using namespace etna;

// 1. Counting traffic from a graph's type.
// fuse::graph_table<G> describes the unique nodes of G, in topological order, by value: each
// node's category (leaf, elementwise, sum over features, ...), its kind (whether it varies
// along tokens and along features) and its operands. Act nodes (T x D) are what costs memory.

//! [minimal]
// Minimal traffic of a call, in floats: acts·T·D + per_feature·D. Every Act or PerFeature leaf
// is read once and every output written once; nothing else touches memory. (Per-token values, T
// of them, are left out: the benchmarks count them only for BatchNorm's mask.)
struct minimal_floats {
    int acts = 0;
    int per_feature = 0;
};

template <class G>
constexpr minimal_floats minimal_traffic() {
    using table = fuse::graph_table<G>;
    minimal_floats m;
    const auto count = [&](const fuse::node_info& node) {
        m.acts += node.tokens && node.features;
        m.per_feature += !node.tokens && node.features;
    };
    for (const fuse::node_info& node : table::info)
        if (node.what == fuse::category::leaf && !node.statistic_leaf) count(node);
    for (std::size_t o = 0; o < table::output_count; ++o) {
        bool repeated = false;  // outputs(a, a) writes a twice, but computes it once
        for (std::size_t p = 0; p < o; ++p) repeated = repeated || table::outputs[p] == table::outputs[o];
        if (!repeated) count(table::info[static_cast<std::size_t>(table::outputs[o])]);
    }
    return m;
}

// The graph of A's outputs and B's: a forward and its gradient, a training step.
template <class... A, class... B>
constexpr graph<A..., B...> joined(graph<A...>, graph<B...>) {
    return {};
}
//! [minimal]

//! [eager]
// Rows of D floats per token that an eager evaluation moves: node by node, as the interpreter or
// a framework calling one operation at a time runs the graph, each computed Act node writes its
// row once and each node reads the row of each of its distinct Act operands once. (Per-token
// values, such as a row's mean, are one float per token: left out.)
template <class G>
constexpr int eager_rows() {
    using table = fuse::graph_table<G>;
    const auto act = [](int i) { return table::info[i].tokens && table::info[i].features; };
    int rows = 0;
    for (std::size_t i = 0; i < table::size; ++i) {
        const fuse::node_info& node = table::info[i];
        if (node.what == fuse::category::leaf || node.what == fuse::category::literal ||
            node.what == fuse::category::extent)
            continue;
        rows += act(static_cast<int>(i));  // its result, written
        for (int k = 0; k < node.operand_count; ++k) {
            bool repeated = false;  // x * x reads x once
            for (int m = 0; m < k; ++m) repeated = repeated || node.operands[m] == node.operands[k];
            rows += !repeated && act(node.operands[k]);  // an operand, read back
        }
    }
    return rows;
}
//! [eager]

//! [fused]
// Bytes per token, d·D + constant, as explain(kernel) counts them for float data on its last
// line, "memory per token: 8D + 8 bytes in float, ...": each Act row read once per loop nest
// (the nest's later loops over the row find it in cache), each output row written once, and
// per-token values (the statistics a pair saves) written or read once.
struct per_token {
    int d = 0;
    int constant = 0;
    friend per_token operator+(per_token a, per_token b) { return {a.d + b.d, a.constant + b.constant}; }
};

per_token fused_traffic(std::string_view plan) {
    constexpr std::string_view label = "memory per token: ";
    std::string_view rest = plan.substr(plan.rfind(label) + label.size());
    const auto number = [&] {
        int n = 0;
        rest.remove_prefix(static_cast<std::size_t>(std::from_chars(rest.data(), rest.data() + rest.size(), n).ptr - rest.data()));
        return n;
    };
    per_token bytes;
    const int first = number();
    if (rest.starts_with("D")) {
        bytes.d = first;
        rest.remove_prefix(1);
        if (rest.starts_with(" + ")) {
            rest.remove_prefix(3);
            bytes.constant = number();
        }
    } else {
        bytes.constant = first;
    }
    return bytes;
}
//! [fused]

std::string text(per_token bytes) {
    if (bytes.constant == 0) return fmt::format("{}D", bytes.d);
    return fmt::format("{}D + {}", bytes.d, bytes.constant);
}

// The largest |a - b| / |b| over the elements where b is not 0.
double largest_relative_error(view<const float> a, view<const double> b) {
    double largest = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            if (b(r, c) != 0)
                largest = std::fmax(largest, std::fabs(static_cast<double>(a(r, c)) - b(r, c)) / std::fabs(b(r, c)));
    return largest;
}

bool same_bits(view<const float> a, view<const float> b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            if (std::bit_cast<std::uint32_t>(a(r, c)) != std::bit_cast<std::uint32_t>(b(r, c))) return false;
    return true;
}

//! [graphs]
constexpr auto x = input<"x">;
constexpr auto r = input<"r">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto dy = input<"dy">;

constexpr auto ln = layer_norm(x, g, b);
constexpr auto ln_grad = grad(ln, wrt(x, g, b));  // seeded by dy
constexpr auto rms = rms_norm(x, g);
constexpr auto pre_norm_step = outputs(r + x, layer_norm(r + x, g, b));  // the residual stream and its norm
constexpr auto post_norm_ln = layer_norm(x + gelu(x), g, b);
//! [graphs]

int main() {
    int failures = 0;

    // 2. The byte model.
    // The benchmarks report minimal bytes / time: the rate at which the job gets done, the same
    // yardstick for every implementation, and comparable with a STREAM copy of the same size
    // (which moves 2·T·D floats: one array read, one written).
    fmt::print("== the byte model\n");
    //! [byte_model]
    constexpr std::size_t T = 16384, D = 1024;  // the benchmarks' middle shape
    const auto print_minimal = [&](const char* name, minimal_floats m) {
        const double bytes = 4.0 * (static_cast<double>(m.acts) * T * D + static_cast<double>(m.per_feature) * D);
        fmt::print("{:<22} {}·T·D + {}·D floats   {:6.1f} MB at {} x {}\n", name, m.acts, m.per_feature, bytes / 1e6, T,
                   D);
    };
    fmt::print("minimal traffic per call: every input read once, every output written once\n");
    print_minimal("layer_norm fwd", minimal_traffic<decltype(as_graph(ln))>());
    print_minimal("layer_norm bwd", minimal_traffic<decltype(ln_grad)>());
    print_minimal("layer_norm train", minimal_traffic<decltype(joined(as_graph(ln), ln_grad))>());
    print_minimal("rms_norm fwd", minimal_traffic<decltype(as_graph(rms))>());
    print_minimal("pre-norm step fwd", minimal_traffic<decltype(pre_norm_step)>());
    print_minimal("post-norm LN fwd", minimal_traffic<decltype(as_graph(post_norm_ln))>());
    //! [byte_model]
    // The table of bench/workload.hpp, derived here from the graphs.
    static_assert(minimal_traffic<decltype(as_graph(ln))>().acts == 2 && minimal_traffic<decltype(as_graph(ln))>().per_feature == 2);
    static_assert(minimal_traffic<decltype(ln_grad)>().acts == 3 && minimal_traffic<decltype(ln_grad)>().per_feature == 3);
    static_assert(minimal_traffic<decltype(joined(as_graph(ln), ln_grad))>().acts == 4 &&
                  minimal_traffic<decltype(joined(as_graph(ln), ln_grad))>().per_feature == 4);

    // 3. What fusion saves, per token (a token's row is D floats, 4·D bytes).
    fmt::print("\n== what fusion saves\n");
    //! [compile]
    auto ln_kernel = compile(ln);
    auto ln_grad_kernel = compile(ln_grad);
    auto pair = vjp(ln, wrt(x, g, b));
    auto rms_kernel = compile(rms);
    auto pre_norm_kernel = compile(pre_norm_step);
    auto post_norm_kernel = compile(post_norm_ln);
    //! [compile]

    //! [table]
    struct row {
        const char* graph;
        int eager;               // rows of D floats per token
        per_token fused;         // bytes per token
        minimal_floats minimal;  // per call: acts·T·D + per_feature·D floats
    };
    const row table[] = {
        {"layer_norm fwd", eager_rows<decltype(as_graph(ln))>(), fused_traffic(explain(ln_kernel)),
         minimal_traffic<decltype(as_graph(ln))>()},
        {"layer_norm grad", eager_rows<decltype(ln_grad)>(), fused_traffic(explain(ln_grad_kernel)),
         minimal_traffic<decltype(ln_grad)>()},
        {"layer_norm vjp pair", eager_rows<decltype(as_graph(ln))>() + eager_rows<decltype(ln_grad)>(),
         fused_traffic(explain(pair.forward_kernel())) + fused_traffic(explain(pair.backward_kernel())),
         minimal_traffic<decltype(joined(as_graph(ln), ln_grad))>()},
        {"rms_norm fwd", eager_rows<decltype(as_graph(rms))>(), fused_traffic(explain(rms_kernel)),
         minimal_traffic<decltype(as_graph(rms))>()},
        {"pre-norm step", eager_rows<decltype(pre_norm_step)>(), fused_traffic(explain(pre_norm_kernel)),
         minimal_traffic<decltype(pre_norm_step)>()},
        {"post-norm LN(x+gelu)", eager_rows<decltype(as_graph(post_norm_ln))>(), fused_traffic(explain(post_norm_kernel)),
         minimal_traffic<decltype(as_graph(post_norm_ln))>()},
    };
    fmt::print("{:<21} {:>7} {:>9} {:>8} {:>12}\n", "bytes per token", "eager", "fused", "minimal", "eager/fused");
    for (const row& l : table)
        fmt::print("{:<21} {:>6}D {:>9} {:>7}D {:>12.1f}\n", l.graph, 4 * l.eager, text(l.fused), 4 * l.minimal.acts,
                   static_cast<double>(4 * l.eager) / l.fused.d);
    //! [table]

    // The claims of the table, checked: each kernel moves the minimal traffic, but the pair,
    // whose backward reads x again (one row more) and the two statistics its forward saved;
    // eager moves more; eager LayerNorm moves the 12 rows lesson 02 counted.
    for (const row& l : table) {
        const bool is_pair = std::string_view(l.graph) == "layer_norm vjp pair";
        failures += l.fused.d != 4 * (l.minimal.acts + (is_pair ? 1 : 0));
        failures += l.eager <= l.minimal.acts;
    }
    static_assert(eager_rows<decltype(as_graph(ln))>() == 12);

    // 4. Two plans: the LayerNorm forward, and the backward of its training pair.
    fmt::print("\n== two plans\n");
    //! [plans]
    fmt::print("layer_norm forward:\n{}", explain(ln_kernel));
    fmt::print("the pair's backward:\n{}", explain(pair.backward_kernel()));
    //! [plans]
    static_assert(ln_kernel.plan.loop_nests() == 1 && ln_kernel.plan.loops[0] == 3);

    // 5. Statistics in double, elements in float.
    // Data far from zero: mean 1e4, standard deviation about 1e-2, in float (whose spacing at 1e4
    // is 2^-10, about 1e-3). The kernel holds the row's mean in double, and enters it into the
    // float difference x - mean as two floats, high + low: x - high is exact there, so the
    // difference is rounded once. The reference is the interpreter in double on the same values.
    fmt::print("\n== mean 1e4, std 1e-2\n");
    //! [precision]
    constexpr std::size_t rows = 8, features = 100;
    tensor<float> X(rows, features);
    for (std::size_t t = 0; t < rows; ++t)
        for (std::size_t j = 0; j < features; ++j)
            X(t, j) = static_cast<float>(1e4 + 1e-3 * static_cast<double>(t) +
                                         1e-2 * (static_cast<double>((7 * j + 3 * t) % 8) - 3.5) / 2.3);
    const std::vector<float> G(features, 1.0f), B(features, 0.0f);
    const tensor<float> Y = ln_kernel(x = X, g = G, b = B);
    const tensor<double> XD = tensor<double>::copy_of(X.view());  // the same values, in double
    const std::vector<double> GD(G.begin(), G.end()), BD(B.begin(), B.end());
    const tensor<double> reference = interpret<double>(ln, x = XD, g = GD, b = BD);
    const double kernel_error = largest_relative_error(Y.view(), reference.view());
    fmt::print("largest relative error of the float kernel: {:.1e}\n", kernel_error);
    //! [precision]

    // What the high + low split avoids: the same normalization, computed in double but for the
    // one rounding of each row's mean to float before x - mean.
    //! [rounded_mean]
    tensor<float> rounded(rows, features);
    for (std::size_t t = 0; t < rows; ++t) {
        double sum = 0, squares = 0;
        for (std::size_t j = 0; j < features; ++j) sum += X(t, j);
        const double mean = sum / features;
        for (std::size_t j = 0; j < features; ++j) squares += (X(t, j) - mean) * (X(t, j) - mean);
        const double rstd = 1 / std::sqrt(squares / features + 1e-5);
        const float mean_in_float = static_cast<float>(mean);
        for (std::size_t j = 0; j < features; ++j) rounded(t, j) = static_cast<float>((X(t, j) - mean_in_float) * rstd);
    }
    const double rounded_error = largest_relative_error(rounded.view(), reference.view());
    fmt::print("with the mean rounded to float first:     {:.1e}\n", rounded_error);
    //! [rounded_mean]
    failures += kernel_error > 1e-6;
    failures += rounded_error < 1e-2;

    // 6. Sums over tokens: per-thread partials, merged in thread order.
    // dgamma and dbeta are sums over all tokens. Each thread adds its block of tokens into a row
    // of its own (padded to whole cache lines: no two threads write to one line), and the rows
    // are added in thread order after the loop: the same data and thread count give the same bits.
    fmt::print("\n== sums over tokens\n");
    //! [reproducible]
    constexpr std::size_t tokens = 999, width = 1001;
    tensor<float> XS(tokens, width), DY(tokens, width);
    for (std::size_t i = 0; i < XS.size(); ++i) {
        XS.data()[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
        DY.data()[i] = static_cast<float>(std::cos(0.51 * static_cast<double>(i)));
    }
    const std::vector<float> GS(width, 1.5f), BS(width, 0.25f);
    pair.set_threads(2);
    pair.forward(x = XS, g = GS, b = BS);
    const auto [dx0, dg0, db0] = pair.backward(x = XS, g = GS, b = BS, dy = DY);
    bool same = true;
    for (int call = 1; call < 5; ++call) {
        const auto [dx, dg, db] = pair.backward(x = XS, g = GS, b = BS, dy = DY);
        same = same && same_bits(dx.view(), dx0.view()) && same_bits(dg.view(), dg0.view()) &&
               same_bits(db.view(), db0.view());
    }
    fmt::print("partial sums per thread: rows of {} doubles for D = {} ({} bytes, whole 64-byte lines)\n",
               cpu::padded(width), width, cpu::padded(width) * sizeof(double));
    fmt::print("5 backward calls, 2 threads: {}\n", same ? "the same bits every time" : "DIFFERENT");
    //! [reproducible]
    static_assert(cpu::padded(width) * sizeof(double) % 64 == 0 && cpu::tile_width == 16);
    failures += !same;

    return failures == 0 ? 0 : 1;
}
