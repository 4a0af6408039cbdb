// Random graphs' gradients: against finite differences, and their float kernels against the interpreter.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <exception>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/filter.hpp>
#include <boost/hana/unpack.hpp>

#include "check.hpp"

namespace etna::testing::random_check {

// The gradient-checked graphs: random_graph<Seed>() for the seeds below (graphs the forward suite
// checks too), each differentiated with respect to every leaf it reads but the mask,
// grad(graph, wrt(x, y, ...)). gradients.cpp is compiled once per gradient part (CMakeLists.txt),
// part k checking gradient_seeds[k * gradient_graphs_per_part] to gradient_seeds[(k + 1) *
// gradient_graphs_per_part - 1].
//
// Compile time sets their number and size: a derived graph is one to three times its graph's
// size (9 to 103 nodes for the 216 graphs, 45 typically), and a graph's checks cost about 0.14 s
// of compilation per node of its derived graph (CMakeLists.txt). So the seeds were chosen, once
// (with the library as of this writing), mostly among graphs whose derived graph has at most 48
// nodes, by a rule that looks at nothing but sizes and coverage:
//   1. going through seeds 0, 1, 2, ..., take a seed whose derived graph has at most 48 nodes
//      when its graph holds a graph_feature (random_graph.hpp: every primitive, every reduction,
//      masked means, every leaf, constants, extents, shared nodes, several outputs, every output
//      kind, several loop nests, exp of z) or an op of ops/ (as graph_types.cpp recognizes them)
//      that the seeds taken do not: 0, 1, 2, 3, 5, 10, 16, 25, 35, 41, 61, 95;
//   2. for each op no such graph holds, the seed of the smallest derived graph holding it:
//      batch_norm_masked 64 (51 nodes), gelu_tanh 146 (57 nodes);
//   3. to fill the last part, the first seed not taken whose derived graph has at most 48 nodes:
//      42; replaced, when max_f and max_t joined the random graphs (seeds 0 and 40 then drew
//      them), by 40, the first graph holding max_f (18 nodes derived). Seed 0 holds max_t.
// graph_types.cpp checks that together they still hold every graph_feature and op. (Seeds 59
// and 106 read nothing but the mask: they have no gradient to check.)
#if !defined(ETNA_RANDOM_GRADIENT_PARTS) || !defined(ETNA_ALL_RANDOM_GRADIENT_PARTS)
#error "ETNA_RANDOM_GRADIENT_PARTS and ETNA_ALL_RANDOM_GRADIENT_PARTS must be defined (see CMakeLists.txt)"
#endif
inline constexpr int gradient_parts = ETNA_RANDOM_GRADIENT_PARTS;  // the gradient parts built
inline constexpr int gradient_graphs_per_part = 3;
inline constexpr std::array<std::uint64_t, 15> gradient_seeds = {
    0, 1, 2, 3, 5, 10, 16, 25, 35, 41, 61, 95,  // 1. every graph_feature, most ops
    64, 146,                                    // 2. batch_norm_masked, gelu_tanh
    40,                                         // 3. (max_f)
};
inline constexpr int all_gradient_parts = static_cast<int>(gradient_seeds.size()) / gradient_graphs_per_part;
static_assert(gradient_seeds.size() % gradient_graphs_per_part == 0);
static_assert(all_gradient_parts == ETNA_ALL_RANDOM_GRADIENT_PARTS,
              "tests/random_graphs/CMakeLists.txt must build gradient_seeds.size() / gradient_graphs_per_part parts");
static_assert(gradient_parts >= 1 && gradient_parts <= all_gradient_parts);

// Seeds whose gradient exposes a library bug, each with the bug it shows; their gradients are not
// checked (nor counted) until the bug is fixed.
inline constexpr std::array<std::uint64_t, 0> gradient_excluded_seeds{};

constexpr bool gradient_excluded(std::uint64_t seed) {
    return std::find(gradient_excluded_seeds.begin(), gradient_excluded_seeds.end(), seed) !=
           gradient_excluded_seeds.end();
}

// (a) Finite differences. Each graph is checked at difference_points_per_graph points (a shape and
// normal data: x, y, z, p and b N(0, 1), g N(1, 0.5), s N(0, 1), masks with at least one token
// that counts) by check_gradient in double: 3 random directions, step h = 1e-5 (times each
// element's scale, autodiff/check_gradient.hpp), tolerance 1e-6.
//
// Where the derived gradient and the central difference disagree, the point is checked again
// with step h / 10, the same directions and seeds, and the two differences of each direction are
// compared (read off check_gradient's report):
//   - it passes at h / 10: the difference converged to the derived gradient as the step shrank
//     (check_gradient's fourth-order difference errs by h^4 from curvature, and a kink or a jump
//     of max, greater or select that lies within 2h of the point may lie beyond 2h / 10). Checked.
//   - in every direction it fails at both steps, and the two differences agree within the
//     check's tolerance (relative to the same scale as its error): the differences do not depend
//     on the step, so they have converged, to values the derived gradient does not have. A
//     failure. (Every direction: where rounding dominates, two differences may be equal by chance
//     in one direction; a wrong gradient shows in every random direction.)
//   - otherwise the differences depend on the step: they do not measure a derivative at this
//     point (a jump within the step shifts a difference by jump / 2h, rounding by eps |phi| / h;
//     a derivative that is zero by cancellation leaves nothing but that rounding). The point is
//     skipped, and another one (the next shape, new data) is drawn in its place.
// A graph may skip at most difference_skips_per_graph points; more is a failure, so that a graph
// cannot pass by skipping. NaN or inf anywhere, and a report that cannot be read, are failures
// too. The summary counts the points checked at the second step and the skipped ones.
inline constexpr int difference_points_per_graph = 4;
inline constexpr int difference_skips_per_graph = 2;

// What a point that fails at both steps shows (harness.cpp reads the two reports).
enum class difference_verdict : unsigned char {
    depends_on_step,  // skipped
    converged,        // a failure: the derived gradient disagrees with converged differences
    not_finite,       // a failure: a difference, a derived value or an error is NaN or inf
    unreadable,       // a failure: a report is not in the format check_gradient writes
};
difference_verdict judge_differences(const gradient_check_result& at_h, const gradient_check_result& at_tenth,
                                     double tolerance);

// (b) The derived gradient graph compiled as a float kernel, against the double interpreter of
// the same graph on the same float inputs, with the forward suite's running error bounds
// (check.hpp, harness.cpp). Per graph, gradient_kernel_cases cases: first every shape of
// 0, 1 and 64 tokens by 1, 15, 16, 17 and 33 features with normal data, then those with tokens
// with offset data (x, y, p of mean 1e4 and std 1e-2), then random shapes and data (normal or
// offset); cases of 64 tokens or more also run with 2 threads. The seeds (dy, dy0, ...) are
// N(0, 1); masks are as in the forward suite (sometimes all 0: where the derived graph takes a
// mean over the mask's tokens, the interpreter and the kernel must then refuse the mask, as in
// check.hpp's mask_refused_by; a mean over 0 tokens is 0 / 0, and the kernel must give NaN where
// the interpreter does). Every run is repeated on the same inputs and must give the same bits.
// No overflow data: past an overflow, the float kernel (which holds statistics in double) and the
// double reference may legitimately differ in class, which the forward suite settles with the
// float interpreter; here, where the reference is not finite the kernel must be of the same class.
inline constexpr int gradient_kernel_cases = 40;

// Outputs of random graphs: at most 4 (random_graph.hpp), so at most 4 seeds.
inline constexpr std::size_t max_seeds = 4;

// The case specs and data of (a) and (b) (harness.cpp).
case_spec difference_case(std::uint64_t graph_seed, int attempt);
case_spec gradient_kernel_case(std::uint64_t graph_seed, int index);
// make_inputs, with masks that count at least one token (a masked mean over no token is 0 / 0).
case_inputs make_difference_inputs(const case_spec& spec, std::uint64_t leaves);

// The seeds' values: one per output of the forward graph, of its kind (has_tokens, has_features).
struct seed_inputs {
    std::array<tensor<double>, max_seeds> exact;
    std::array<tensor<float>, max_seeds> rounded;
    std::array<tensor<double>, max_seeds> rounded_exact;
};
struct output_axes {
    bool tokens = false;
    bool features = false;
};
seed_inputs make_seeds(const case_spec& spec, const output_axes* outputs, std::size_t count);

// The float kernel's output against the double interpreter on the same float inputs.
std::string compare_float_to_double(view<const float> kernel, view<const double> on_floats, view<const double> bound,
                                    tally& seen, mismatch& where);

struct gradient_summary {
    int graphs = 0;
    long long points = 0;                  // finite-difference points checked
    long long points_at_smaller_step = 0;  // of which checked at step h / 10
    long long points_skipped = 0;          // not checked: the difference depends on the step
    double worst_difference_error = 0;     // the largest error of a checked point
    long long kernel_cases = 0;
    long long two_thread_cases = 0;
    tally in_float;
};

// Prints and checks the totals of one gradient part.
void report_gradients(int part, const gradient_summary& total, int expected_graphs);

// Every gradient part's graphs, registered when the program starts (graph_types.cpp checks that
// together they hold every node kind and op).
struct gradient_record {
    std::uint64_t seed;
    std::uint64_t features;      // graph_features of the forward graph
    std::size_t nodes;           // of the forward graph
    std::size_t gradient_nodes;  // of the derived graph
    bool broadcasts;             // the derived graph holds a broadcast (written by autodiff only)
    std::string formula;         // of the forward graph
};
std::vector<gradient_record>& gradient_registry();

// wrt(...) of every leaf of G but the masks.
template <class G>
constexpr auto differentiable_leaves() {
    constexpr auto kept = boost::hana::filter(leaves_of(G{}), [](auto leaf) {
        return boost::hana::bool_c<decltype(leaf)::type::role != leaf_role::mask>;
    });
    return boost::hana::unpack(kept, [](auto... leaf) { return wrt(typename decltype(leaf)::type{}...); });
}

// The values a derived graph reads: the forward graph's leaves and the seeds.
template <class T>
struct gradient_values {
    const leaf_values<T>& leaves;
    const std::array<tensor<T>, max_seeds>& seeds;
};

// The output whose seed Leaf is: dy (a graph of one output), or dy0, dy1, ... (autodiff/grad.hpp).
// Random graphs' own leaves have one-letter names.
template <class Leaf>
constexpr std::size_t seed_index() {
    constexpr std::string_view name = Leaf::name.view();
    if constexpr (name.size() == 2) return 0;
    else return static_cast<std::size_t>(name[2] - '0');
}
template <class Leaf>
inline constexpr bool is_seed_leaf = Leaf::name.view().size() >= 2 && Leaf::name.view().substr(0, 2) == "dy";

template <class Leaf, class T>
auto bind_in_gradient(const gradient_values<T>& v) {
    if constexpr (is_seed_leaf<Leaf>) {
        constexpr std::size_t o = seed_index<Leaf>();
        static_assert(o < max_seeds);
        if constexpr (std::is_same_v<kind_of<Leaf>, Scalar>) return Leaf{} = v.seeds[o].data()[0];
        else return Leaf{} = v.seeds[o];
    } else {
        return bind<Leaf>(v.leaves);
    }
}

template <class D, class T, class F>
void with_gradient_bindings(const gradient_values<T>& v, F&& f) {
    boost::hana::unpack(leaves_of(D{}),
                        [&](auto... leaf) { f(bind_in_gradient<typename decltype(leaf)::type>(v)...); });
}

// The names of the leaves of wrt(...), in order: the derived graph's output o is the gradient of
// leaf o.
template <class... Leaves>
constexpr std::array<std::string_view, sizeof...(Leaves)> names_of(wrt_list<Leaves...>) {
    return {Leaves::name.view()...};
}

template <class G>
constexpr auto output_axes_of() {
    return []<class... Roots>(boost::hana::tuple<Roots...>) {
        return std::array<output_axes, sizeof...(Roots)>{
            output_axes{kind_of<typename Roots::type>::has_tokens, kind_of<typename Roots::type>::has_features}...};
    }(std::remove_cv_t<decltype(as_graph_t<G>::roots)>{});
}

// (a): random_graph<Seed>()'s derived gradient against central differences, as above. Returns
// false after a failure.
template <std::uint64_t Seed, class G, class Wrt>
bool check_differences(const G& graph, Wrt leaves, gradient_summary& total) {
    constexpr std::uint64_t features = graph_features<G>();
    int checked = 0;
    int skipped = 0;
    for (int attempt = 0; checked < difference_points_per_graph; ++attempt) {
        const case_spec spec = difference_case(Seed, attempt);
        const case_inputs in = make_difference_inputs(spec, features);
        gradient_check_options options;
        options.seed = spec.data_seed;
        gradient_check_result first;
        gradient_check_result second;
        const auto fail = [&](std::string_view why) {
            FAIL_CHECK(fmt::format("random graph seed {}, gradient: {} (finite differences at T = {}, D = {}, normal "
                                   "data of seed {}):\nstep h:\n{}step h / 10:\n{}graph:\n{}",
                                   Seed, why, spec.tokens, spec.features, spec.data_seed, first.report, second.report,
                                   formula_of<G>()));
            return false;
        };
        try {
            with_bindings<G>(in.exact, [&](const auto&... bound) {
                first = check_gradient(options, graph, leaves, bound...);
                if (first.passed) return;
                options.step /= 10;
                second = check_gradient(options, graph, leaves, bound...);
            });
        } catch (const std::exception& e) {
            return fail(fmt::format("exception: {}", e.what()));
        }
        if (first.passed || second.passed) {
            ++checked;
            ++total.points;
            if (!first.passed) ++total.points_at_smaller_step;
            total.worst_difference_error =
                std::max(total.worst_difference_error, first.passed ? first.worst_error : second.worst_error);
            continue;
        }
        switch (judge_differences(first, second, options.tolerance)) {
        case difference_verdict::depends_on_step:
            ++skipped;
            ++total.points_skipped;
            if (skipped > difference_skips_per_graph)
                return fail(
                    fmt::format("{} points whose finite differences depend on the step, the last one", skipped));
            break;
        case difference_verdict::converged:
            return fail("the derived gradient disagrees with finite differences that agree at both steps");
        case difference_verdict::not_finite:
            return fail("NaN or inf in the finite differences or the derived gradient, on normal data");
        case difference_verdict::unreadable:
            return fail("check_gradient's report is not in the format judge_differences reads (harness.cpp)");
        }
    }
    return true;
}

// (b): the derived graph D's float kernel against the double interpreter of D on the same float
// inputs. Returns false after a failure.
template <std::uint64_t Seed, class G, class D>
bool check_gradient_kernel(const D& gradients, gradient_summary& total) {
    using table = fuse::graph_table<D>;
    constexpr auto output_indices = std::make_index_sequence<table::output_count>{};
    constexpr std::uint64_t features = graph_features<G>();
    constexpr auto axes = output_axes_of<G>();
    static_assert(axes.size() <= max_seeds);
    constexpr auto leaf_names = names_of(differentiable_leaves<G>());

    interpreter<double, every_node_t<D>> on_floats;
    error_bounds<D> float_bounds;
    kernel<D> one_thread = compile(gradients);
    one_thread.set_threads(1);
    kernel<D> two_threads = compile(gradients);
    two_threads.set_threads(2);

    for (int index = 0; index < gradient_kernel_cases; ++index) {
        const case_spec spec = gradient_kernel_case(Seed, index);
        std::string failure;
        std::string threads = "1 thread";
        mismatch where;
        try {
            const case_inputs in = make_inputs(spec, features);
            const seed_inputs dy = make_seeds(spec, axes.data(), axes.size());
            const gradient_values<double> reference_values{in.rounded_exact, dy.rounded_exact};
            const gradient_values<float> values{in.rounded, dy.rounded};
            if (mask_refused_by<D>(in)) {
                // A mask that masks every token, where the derived graph takes a mean over it.
                failure = refusal_of_mask([&] {
                    with_gradient_bindings<D>(reference_values, [&](const auto&... bound) { on_floats.run(bound...); });
                });
                if (failure.empty())
                    failure = refusal_of_mask([&] {
                        with_gradient_bindings<D>(values, [&](const auto&... bound) { (void)one_thread(bound...); });
                    });
            } else {
                with_gradient_bindings<D>(reference_values, [&](const auto&... bound) { on_floats.run(bound...); });
                float_bounds.compute(on_floats, in_float);
                const auto check_kernel = [&](kernel<D>& k) {
                    const auto run = [&]<std::size_t... O>(std::index_sequence<O...>) {
                        constexpr auto& roots = table::outputs;
                        std::array<tensor<float>, sizeof...(O)> out{
                            tensor<float>(on_floats.template output<roots[O]>().rows(),
                                          on_floats.template output<roots[O]>().cols(), static_cast<float>(unwritten))...};
                        with_gradient_bindings<D>(values, [&](const auto&... bound) { k(into(out[O]...), bound...); });
                        return out;
                    };
                    const auto floats = run(output_indices);
                    const auto floats_again = run(output_indices);
                    while_each<table::output_count>([&](auto output) {
                        constexpr std::size_t o = decltype(output)::value;
                        constexpr std::size_t root = static_cast<std::size_t>(table::outputs[o]);
                        const std::string why = compare_float_to_double(floats[o].view(), on_floats.template output<root>(),
                                                                        float_bounds.of(root), total.in_float, where);
                        if (!why.empty())
                            failure = fmt::format("output {}, the gradient of '{}': {}", o, leaf_names[o], why);
                        return why.empty();
                    });
                    if (failure.empty() && !same_bits(floats, floats_again))
                        failure = "not deterministic: a second run on the same inputs gave other bits";
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
        ++total.kernel_cases;
        if (!failure.empty()) {
            FAIL_CHECK(fmt::format("random graph seed {}, gradient kernel, case {}: T = {}, D = {}, data {}, {}: {}\n"
                                   "element ({}, {}): kernel {:.9g}, reference {:.17g}, tolerance {:.3g}\n"
                                   "graph (print grad(random_graph<{}>(), wrt(...)) for the gradient's formula):\n{}",
                                   Seed, index, spec.tokens, spec.features, name_of(spec.kind), threads, failure,
                                   where.row, where.col, where.kernel, where.reference, where.tolerance, Seed,
                                   formula_of<G>()));
            return false;
        }
    }
    return true;
}

template <std::uint64_t Seed>
void check_random_gradient(gradient_summary& total) {
    constexpr auto graph = random_graph<Seed>();
    using G = std::remove_cv_t<decltype(graph)>;
    constexpr auto leaves = differentiable_leaves<G>();
    constexpr auto gradients = grad(graph, leaves);
    ++total.graphs;
    check_differences<Seed>(graph, leaves, total);
    check_gradient_kernel<Seed, G>(gradients, total);
}

template <class E>
inline constexpr bool is_broadcast = false;
template <expression A, expression Like>
inline constexpr bool is_broadcast<elementwise<prim::broadcast, A, Like>> = true;

template <class... Nodes>
constexpr bool holds_broadcast(boost::hana::tuple<Nodes...>) {
    return (is_broadcast<typename Nodes::type> || ...);
}

template <std::uint64_t Seed>
void register_gradient() {
    if constexpr (!gradient_excluded(Seed)) {
        using G = std::remove_cv_t<decltype(random_graph<Seed>())>;
        using D = std::remove_cv_t<decltype(grad(G{}, differentiable_leaves<G>()))>;
        gradient_registry().push_back(
            {Seed, graph_features<G>(), node_count<G>, node_count<D>, holds_broadcast(topological_nodes_t<D>{}),
             formula_of<G>()});
    }
}

// The seeds of gradient part `Part`.
template <int Part>
constexpr auto gradient_seeds_of_part() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return std::integer_sequence<std::uint64_t, gradient_seeds[Part * gradient_graphs_per_part + I]...>{};
    }(std::make_index_sequence<gradient_graphs_per_part>{});
}

template <std::uint64_t... Seeds>
bool register_gradients(std::integer_sequence<std::uint64_t, Seeds...>) {
    (register_gradient<Seeds>(), ...);
    return true;
}

template <std::uint64_t Seed>
void check_gradient_unless_excluded(gradient_summary& total) {
    if constexpr (!gradient_excluded(Seed)) check_random_gradient<Seed>(total);
}

template <int Part, std::uint64_t... Seeds>
void check_random_gradients(std::integer_sequence<std::uint64_t, Seeds...>) {
    gradient_summary total;
    (check_gradient_unless_excluded<Seeds>(total), ...);
    report_gradients(Part, total, static_cast<int>((0 + ... + !gradient_excluded(Seeds))));
}

}  // namespace etna::testing::random_check
