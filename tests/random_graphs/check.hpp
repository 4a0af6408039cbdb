// The random-graph harness: a graph's fused kernel against the interpreter on many random cases.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/unpack.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/random_graph.hpp>

namespace etna::testing::random_check {

// Every graph runs on this many cases (a shape and its data).
inline constexpr int cases_per_graph = 500;

// The suite: graphs.cpp is compiled once per part (CMakeLists.txt sets the number of parts),
// part k checking seeds k * graphs_per_part to (k + 1) * graphs_per_part - 1; the kernels'
// compile time, about 3 s per graph at -O3, sets the size of a part. Together:
// parts * graphs_per_part * cases_per_graph cases.
#ifndef ETNA_RANDOM_GRAPH_PARTS
#error "ETNA_RANDOM_GRAPH_PARTS (the number of parts) must be defined; tests/random_graphs/CMakeLists.txt does"
#endif
inline constexpr int parts = ETNA_RANDOM_GRAPH_PARTS;  // the parts built: all, or the sanitize preset's first ones
inline constexpr int graphs_per_part = 9;

// Seeds whose graph exposes a library bug, each with the bug it shows; their graphs are not
// checked (nor counted) until the bug is fixed.
inline constexpr std::array<std::uint64_t, 0> excluded_seeds{};

constexpr bool excluded(std::uint64_t seed) {
    return std::find(excluded_seeds.begin(), excluded_seeds.end(), seed) != excluded_seeds.end();
}

// What the leaves hold in one case.
enum class data_kind : unsigned char {
    normal,           // N(0, 1) (gamma N(1, 0.5))
    offset,           // x, y and p of mean 1e4 and std 1e-2: cancellation in every centring
    overflow_float,   // z of magnitude 70 to 80 or 89 to 99, both signs: exp(z) overflows float above 88.7
    overflow_double,  // z of magnitude 680 to 690 or 710 to 720, both signs: exp(z) overflows double above 709.8
};
const char* name_of(data_kind kind);

// The shape and data of case `index` of a graph: the first cases are fixed edge shapes
// (0 tokens, 1 feature, 8192 features, 1000 tokens), the others random.
struct case_spec {
    std::size_t tokens = 0;
    std::size_t features = 0;
    data_kind kind = data_kind::normal;
    std::uint64_t data_seed = 0;
    bool two_threads = false;  // also run (twice) with 2 threads
};
case_spec case_for(std::uint64_t graph_seed, int index);

// Values for every leaf a random graph may read (random_leaves), in element type T. Act leaves
// are T x D, PerToken T x 1, PerFeature 1 x D.
template <class T>
struct leaf_values {
    tensor<T> x, y, z, p, m, g, b;
    T s{};
};

// One case's inputs: exact (double), rounded to float, and the rounded values widened back to
// double, on which the double interpreter is the float kernel's reference. Only the leaves
// whose has_leaf_* bits are set in `leaves` are filled.
struct case_inputs {
    leaf_values<double> exact;
    leaf_values<float> rounded;
    leaf_values<double> rounded_exact;
};
case_inputs make_inputs(const case_spec& spec, std::uint64_t leaves);

// Where a comparison failed.
struct mismatch {
    std::size_t row = 0;
    std::size_t col = 0;
    double kernel = 0;
    double reference = 0;
    double tolerance = 0;
};

// What the comparisons of one precision's kernel checked, element by element.
struct tally {
    long long values = 0;      // finite elements within their tolerance
    long long non_finite = 0;  // NaN or inf elements, of the expected kind
    long long unbounded = 0;   // elements whose error bound is unbounded: only determinism checked
    double worst = 0;          // the largest |kernel - reference| / tolerance: the margin left
};

// Bounds on rounding errors (harness.cpp explains them). A precision: its unit roundoff, its
// largest finite value and its smallest subnormal.
struct precision {
    double unit;
    double largest;
    double smallest;
};
inline constexpr precision in_double{0x1.0p-53, 1.7976931348623157e308, 4.9406564584124654e-324};
inline constexpr precision in_float{0x1.0p-24, 3.4028234663852886e38, 1.4012984643248171e-45};

// The primitives, as the error bounds tell them apart.
enum class primitive : unsigned char {
    add, sub, mul, div, neg, exp, log, sqrt, rsqrt, tanh, erf, max, greater, select, broadcast
};

// The bound on |computed - exact| of one element of a primitive's result v, from its operands'
// values and bounds (count of them: the primitive's arity).
double elementwise_bound(primitive op, double v, const double* operand, const double* operand_bound,
                         const precision& p);

// The bounds of a sum over features (over_features) or over tokens of `operand`, into `out`.
void sum_bound(view<const double> sum, view<const double> operand, view<const double> operand_bound, bool over_features,
               const precision& p, tensor<double>& out);

// Output against output; "" when they agree. The double kernel against the double interpreter
// on the same inputs; the float kernel against the float interpreter (eager) and the double
// one (on_floats) on the same float inputs. bound: the output's error bounds in the kernel's
// precision.
std::string compare_double(view<const double> kernel, view<const double> reference, view<const double> bound,
                           tally& seen, mismatch& where);
std::string compare_float(view<const float> kernel, view<const float> eager, view<const double> on_floats,
                          view<const double> bound, tally& seen, mismatch& where);

// Bitwise equality (NaN payloads included).
bool same_bits(view<const double> a, view<const double> b);
bool same_bits(view<const float> a, view<const float> b);

// Kernel outputs start as this value, so that an element the kernel fails to write cannot
// pass for a computed one (no graph computes it from these inputs).
inline constexpr double unwritten = 1.25e30;

struct summary {
    int graphs = 0;
    long long cases = 0;
    long long two_thread_cases = 0;
    tally in_double;
    tally in_float;
};

// Prints and checks the totals of one part.
void report(int part, const summary& total, int expected_graphs);

// Every part's graphs, registered when the program starts, so that one test can check that
// the graph types are distinct and together hold every node kind.
struct graph_record {
    std::uint64_t seed;
    std::uint64_t hash;      // graph_hash: equal for equal types
    std::uint64_t features;  // graph_features bits
    std::string formula;     // as fmt prints it, in which the ops of ops/ can be recognized
};
std::vector<graph_record>& registry();

template <class Leaf, class T>
auto bind(const leaf_values<T>& v) {
    using namespace random_leaves;
    if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(x)>>) return x = v.x;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(y)>>) return y = v.y;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(z)>>) return z = v.z;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(p)>>) return p = v.p;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(m)>>) return m = v.m;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(g)>>) return g = v.g;
    else if constexpr (std::is_same_v<Leaf, std::remove_cv_t<decltype(b)>>) return b = v.b;
    else return s = v.s;
}

// Calls f with a binding for each leaf of G and no other (binding a leaf the graph does not
// read is a compile error).
template <class G, class T, class F>
void with_bindings(const leaf_values<T>& v, F&& f) {
    boost::hana::unpack(leaves_of(G{}), [&](auto... leaf) { f(bind<typename decltype(leaf)::type>(v)...); });
}

// The graph whose outputs are every node of G, in topological order. Its interpreter evaluates
// exactly G's nodes, and lets the harness read the values of the intermediate ones too.
template <class... Nodes>
constexpr auto every_node(boost::hana::tuple<Nodes...>) {
    return graph<typename Nodes::type...>{};
}
template <class G>
using every_node_t = decltype(every_node(topological_nodes_t<G>{}));

template <class Op>
constexpr primitive primitive_of() {
    if constexpr (std::is_same_v<Op, prim::add>) return primitive::add;
    else if constexpr (std::is_same_v<Op, prim::sub>) return primitive::sub;
    else if constexpr (std::is_same_v<Op, prim::mul>) return primitive::mul;
    else if constexpr (std::is_same_v<Op, prim::div>) return primitive::div;
    else if constexpr (std::is_same_v<Op, prim::neg>) return primitive::neg;
    else if constexpr (std::is_same_v<Op, prim::exp>) return primitive::exp;
    else if constexpr (std::is_same_v<Op, prim::log>) return primitive::log;
    else if constexpr (std::is_same_v<Op, prim::sqrt>) return primitive::sqrt;
    else if constexpr (std::is_same_v<Op, prim::rsqrt>) return primitive::rsqrt;
    else if constexpr (std::is_same_v<Op, prim::tanh>) return primitive::tanh;
    else if constexpr (std::is_same_v<Op, prim::erf>) return primitive::erf;
    else if constexpr (std::is_same_v<Op, prim::max>) return primitive::max;
    else if constexpr (std::is_same_v<Op, prim::greater>) return primitive::greater;
    else if constexpr (std::is_same_v<Op, prim::select>) return primitive::select;
    else if constexpr (std::is_same_v<Op, prim::broadcast>) return primitive::broadcast;  // in derived graphs
    else static_assert(always_false<Op>, "a primitive without an error bound (harness.cpp): add one");
}

// Running error bounds (harness.cpp): for every node of G and every element, a bound on how far
// an evaluation in precision p may be from the exact value, given every node's value (the
// double interpreter of every_node_t<G>) and exact leaves.
template <class G>
class error_bounds {
    using nodes = topological_nodes_t<G>;
    static constexpr std::size_t size = node_count<G>;
    template <std::size_t I>
    using node_type = typename std::remove_cvref_t<decltype(nodes{}[boost::hana::size_c<I>])>::type;

public:
    using values_type = interpreter<double, every_node_t<G>>;

    void compute(const values_type& values, const precision& p) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (node<I>(values, p, static_cast<node_type<I>*>(nullptr)), ...);
        }(std::make_index_sequence<size>{});
    }

    [[nodiscard]] view<const double> of(std::size_t i) const { return bounds_[i].view(); }

private:
    tensor<double>& fit(std::size_t i, view<const double> value) {
        if (bounds_[i].rows() != value.rows() || bounds_[i].cols() != value.cols())
            bounds_[i] = tensor<double>(value.rows(), value.cols());
        return bounds_[i];
    }

    // Leaves are exact (the kernel and the interpreter read the same values); so are extents.
    template <std::size_t I, class E>
    void node(const values_type& values, const precision& p, E*) {
        const auto value = values.template output<I>();
        auto& bound = fit(I, value);
        double initial = 0;
        if constexpr (is_literal<E>) initial = p.unit * std::abs(E::value);  // rounded to float in a float kernel
        std::fill_n(bound.data(), bound.size(), initial);
    }

    template <std::size_t I, axis Over, class A>
    void node(const values_type& values, const precision& p, reduction<Over, A>*) {
        constexpr std::size_t a = index_in<A>(nodes{});
        sum_bound(values.template output<I>(), values.template output<a>(), bounds_[a].view(), Over == axis::features,
                  p, fit(I, values.template output<I>()));
    }

    // A maximum is one of its operand's elements, combined without rounding: within the largest
    // bound of those elements (|max(a + e) - max(a)| <= max |e|).
    template <std::size_t I, axis Over, class A>
    void node(const values_type& values, const precision&, reduction<Over, A, prim::max_along>*) {
        constexpr std::size_t a = index_in<A>(nodes{});
        auto& bound = fit(I, values.template output<I>());
        std::fill_n(bound.data(), bound.size(), 0.0);
        const auto operand = bounds_[a].view();
        for (std::size_t r = 0; r < operand.rows(); ++r)
            for (std::size_t c = 0; c < operand.cols(); ++c) {
                double& b = Over == axis::features ? bound(r, 0) : bound(0, c);
                b = std::max(b, operand(r, c));
            }
    }

    template <std::size_t I, class Op, class... Args>
    void node(const values_type& values, const precision& p, elementwise<Op, Args...>*) {
        const auto value = values.template output<I>();
        auto& bound = fit(I, value);
        constexpr std::size_t at[] = {index_in<Args>(nodes{})...};
        constexpr bool tokens[] = {kind_of<Args>::has_tokens...};
        constexpr bool features[] = {kind_of<Args>::has_features...};
        constexpr std::size_t n = sizeof...(Args);
        const std::array<view<const double>, n> operand_values{values.template output<index_in<Args>(nodes{})>()...};
        for (std::size_t r = 0; r < value.rows(); ++r)
            for (std::size_t c = 0; c < value.cols(); ++c) {
                double operand[n];
                double operand_bound[n];
                for (std::size_t k = 0; k < n; ++k) {
                    const std::size_t row = tokens[k] ? r : 0;
                    const std::size_t col = features[k] ? c : 0;
                    operand[k] = operand_values[k](row, col);
                    operand_bound[k] = bounds_[at[k]](row, col);
                }
                bound(r, c) = elementwise_bound(primitive_of<Op>(), value(r, c), operand, operand_bound, p);
            }
    }

    std::array<tensor<double>, size> bounds_;
};

// Whether the case's mask masks every one of its tokens (one or more) while G takes a mean over
// the tokens the mask keeps: then the interpreter and the kernels must refuse the mask with an
// error that names it (runtime/binding.hpp), not compute 0 / 0. G reads m whenever this holds.
template <class G>
bool mask_refused_by(const case_inputs& in) {
    if constexpr (!divides_by_count_of<G, std::remove_cv_t<decltype(random_leaves::m)>>()) {
        return false;
    } else {
        const tensor<double>& m = in.exact.m;
        return m.rows() > 0 && std::all_of(m.data(), m.data() + m.size(), [](double v) { return v == 0; });
    }
}

// "" if f throws the error that refuses such a mask; otherwise what it did instead.
template <class F>
std::string refusal_of_mask(F&& f) {
    try {
        f();
    } catch (const error& e) {
        if (std::string_view(e.what()).find("mask 'm' masks every one of its") != std::string_view::npos) return "";
        return fmt::format("a mask that masks every token was refused with another error: {}", e.what());
    }
    return "a mask that masks every token was not refused (a mean over no token is 0 / 0)";
}

// Runs kernel k on values v into new buffers of the outputs' shapes, each element first set
// to `unwritten`.
template <class T, class G, class Values, std::size_t... O>
auto run_into(kernel<G>& k, const interpreter<double, every_node_t<G>>& shapes, const Values& v,
              std::index_sequence<O...>) {
    constexpr auto& roots = fuse::graph_table<G>::outputs;
    std::array<tensor<T>, sizeof...(O)> out{tensor<T>(shapes.template output<roots[O]>().rows(),
                                                      shapes.template output<roots[O]>().cols(),
                                                      static_cast<T>(unwritten))...};
    with_bindings<G>(v, [&](const auto&... bound) { k(into(out[O]...), bound...); });
    return out;
}

// f(integral_constant<i>) for i = 0, 1, ..., N - 1 while it returns true.
template <std::size_t N, class F>
bool while_each(F&& f) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return (f(std::integral_constant<std::size_t, I>{}) && ...);
    }(std::make_index_sequence<N>{});
}

template <class T, std::size_t N>
bool same_bits(const std::array<tensor<T>, N>& a, const std::array<tensor<T>, N>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), [](const tensor<T>& u, const tensor<T>& w) {
        return same_bits(view<const T>(u.view()), view<const T>(w.view()));
    });
}

// G's formula, as fmt::format("{}", G{}) prints it. Not inlined: printing a graph is a large
// function of its type, needed once per graph but in two places (registration and failures).
template <class G>
[[gnu::noinline]] std::string formula_of() {
    return fmt::format("{}", G{});
}

// Checks random_graph<Seed>()'s kernel on cases_per_graph cases. Per case: the double kernel
// against the double interpreter on the same inputs, the float kernel against the double
// interpreter on the float-rounded inputs, and determinism (a second run on the same inputs
// gives the same bits), with 1 thread and, on some cases, with 2. The first failure of a graph
// is reported with the seed, the case, the shape, the element and the formula, and ends the
// graph's checks.
template <std::uint64_t Seed>
void check_random_graph(summary& total) {
    constexpr auto graph = random_graph<Seed>();
    using G = std::remove_cv_t<decltype(graph)>;
    using table = fuse::graph_table<G>;
    constexpr auto output_indices = std::make_index_sequence<table::output_count>{};
    constexpr std::uint64_t leaves = graph_features<G>();  // has_leaf_* bits: the leaves to fill

    interpreter<double, every_node_t<G>> exact;      // the oracle, on the exact inputs
    interpreter<double, every_node_t<G>> on_floats;  // the oracle, on the float-rounded inputs
    interpreter<float, G> eager;                     // float semantics of non-finite values
    error_bounds<G> double_bounds;                   // an evaluation in double is within these of exact
    error_bounds<G> float_bounds;                    // an evaluation in float is within these of exact
    kernel<G> one_thread = compile(graph);
    one_thread.set_threads(1);
    kernel<G> two_threads = compile(graph);
    two_threads.set_threads(2);

    ++total.graphs;
    for (int index = 0; index < cases_per_graph; ++index) {
        const case_spec spec = case_for(Seed, index);
        std::string failure;
        std::string threads = "1 thread";
        mismatch where;
        try {
            const case_inputs in = make_inputs(spec, leaves);
            if (mask_refused_by<G>(in)) {
                // The interpreter, then the kernel in double and in float.
                const auto interpret_exact = [&] {
                    with_bindings<G>(in.exact, [&](const auto&... bound) { exact.run(bound...); });
                };
                const auto kernel_refusal = [&](const auto& values) {
                    return refusal_of_mask(
                        [&] { with_bindings<G>(values, [&](const auto&... bound) { (void)one_thread(bound...); }); });
                };
                failure = refusal_of_mask(interpret_exact);
                if (failure.empty()) failure = kernel_refusal(in.exact);
                if (failure.empty()) failure = kernel_refusal(in.rounded);
            } else {
                with_bindings<G>(in.exact, [&](const auto&... bound) { exact.run(bound...); });
                with_bindings<G>(in.rounded_exact, [&](const auto&... bound) { on_floats.run(bound...); });
                with_bindings<G>(in.rounded, [&](const auto&... bound) { eager.run(bound...); });
                double_bounds.compute(exact, in_double);
                float_bounds.compute(on_floats, in_float);

                // One kernel's double and float runs, each twice: against the interpreter, and
                // against themselves.
                const auto check_kernel = [&](kernel<G>& k) {
                    const auto doubles = run_into<double>(k, exact, in.exact, output_indices);
                    const auto floats = run_into<float>(k, exact, in.rounded, output_indices);
                    const auto doubles_again = run_into<double>(k, exact, in.exact, output_indices);
                    const auto floats_again = run_into<float>(k, exact, in.rounded, output_indices);
                    while_each<table::output_count>([&](auto output) {
                        constexpr std::size_t o = decltype(output)::value;
                        constexpr std::size_t root = static_cast<std::size_t>(table::outputs[o]);
                        std::string why = compare_double(doubles[o].view(), exact.template output<root>(),
                                                         double_bounds.of(root), total.in_double, where);
                        if (!why.empty()) {
                            failure = fmt::format("output {} of the double kernel: {}", o, why);
                            return false;
                        }
                        why = compare_float(floats[o].view(), eager.template output<o>(), on_floats.template output<root>(),
                                            float_bounds.of(root), total.in_float, where);
                        if (!why.empty()) failure = fmt::format("output {} of the float kernel: {}", o, why);
                        return why.empty();
                    });
                    if (failure.empty() && !same_bits(doubles, doubles_again))
                        failure = "not deterministic: a second double run on the same inputs gave other bits";
                    if (failure.empty() && !same_bits(floats, floats_again))
                        failure = "not deterministic: a second float run on the same inputs gave other bits";
                };
                check_kernel(one_thread);
                if (failure.empty() && spec.two_threads) {
                    threads = "2 threads";
                    check_kernel(two_threads);
                    ++total.two_thread_cases;
                }
            }
        } catch (const std::exception& e) {
            failure = fmt::format("exception: {}", e.what());
        }
        ++total.cases;
        if (!failure.empty()) {
            FAIL_CHECK(
                fmt::format("random graph seed {}, case {}: T = {}, D = {}, data {}, {}: {}\n"
                            "element ({}, {}): kernel {:.17g}, reference {:.17g}, tolerance {:.3g}\ngraph:\n{}",
                            Seed, index, spec.tokens, spec.features, name_of(spec.kind), threads, failure, where.row,
                            where.col, where.kernel, where.reference, where.tolerance, formula_of<G>()));
            return;
        }
    }
}

template <std::uint64_t Seed>
void register_graph() {
    if constexpr (!excluded(Seed)) {
        using G = std::remove_cv_t<decltype(random_graph<Seed>())>;
        registry().push_back({Seed, graph_hash<G>(), graph_features<G>(), formula_of<G>()});
    }
}

// The seeds of part `Part`.
template <int Part>
constexpr auto seeds_of_part() {
    return []<std::uint64_t... I>(std::integer_sequence<std::uint64_t, I...>) {
        return std::integer_sequence<std::uint64_t, (static_cast<std::uint64_t>(Part) * graphs_per_part + I)...>{};
    }(std::make_integer_sequence<std::uint64_t, graphs_per_part>{});
}

template <std::uint64_t... Seeds>
bool register_graphs(std::integer_sequence<std::uint64_t, Seeds...>) {
    (register_graph<Seeds>(), ...);
    return true;
}

template <std::uint64_t Seed>
void check_unless_excluded(summary& total) {
    if constexpr (!excluded(Seed)) check_random_graph<Seed>(total);
}

template <int Part, std::uint64_t... Seeds>
void check_random_graphs(std::integer_sequence<std::uint64_t, Seeds...>) {
    summary total;
    (check_unless_excluded<Seeds>(total), ...);
    report(Part, total, static_cast<int>((0 + ... + !excluded(Seeds))));
}

}  // namespace etna::testing::random_check
