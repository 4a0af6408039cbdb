// The random-graph harness's non-template half: cases, inputs, tolerances and the reports.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <sstream>

#include "check.hpp"
#include "gradients.hpp"

namespace etna::testing::random_check {

namespace {

using random_graph_detail::splitmix64;

// Shapes every graph meets first: 0 tokens, 1 feature, widths below, at and above the 16-lane
// tile, 8192 features with 1 token and 1000 tokens with 3 features.
constexpr std::pair<std::size_t, std::size_t> edge_shapes[] = {
    {0, 1}, {0, 17}, {1, 1}, {1, 2}, {2, 3}, {1, 8192}, {1000, 3}, {3, 16}, {7, 33}, {16, 15}, {5, 17}, {33, 31}};

// Random shapes: token counts around the thread split, widths around multiples of 16.
constexpr std::size_t token_counts[] = {0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 127};
constexpr std::size_t feature_counts[] = {1, 1, 2, 3, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 64, 100};

// Cases and their data: splitmix64 as a stream (fast, and the same on every platform), normal
// samples by Box-Muller.
struct random_stream {
    std::uint64_t state;
    bool has_spare = false;
    double spare = 0;

    std::uint64_t next() { return splitmix64(state++); }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double normal() {
        if (has_spare) {
            has_spare = false;
            return spare;
        }
        constexpr double two_pi = 6.283185307179586;
        const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));  // 1 - u is in (0, 1]
        const double angle = two_pi * uniform();
        spare = radius * std::sin(angle);
        has_spare = true;
        return radius * std::cos(angle);
    }
};

template <class Range>
auto one_of(random_stream& random, const Range& range) {
    return range[random.next() % std::size(range)];
}

// Every leaf's values converted to another element type.
template <class To, class From>
leaf_values<To> converted(const leaf_values<From>& v) {
    const auto copy = [](const tensor<From>& t) { return tensor<To>::copy_of(t.view()); };
    return {copy(v.x), copy(v.y), copy(v.z), copy(v.p), copy(v.m), copy(v.g), copy(v.b), static_cast<To>(v.s)};
}

const char* class_of(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
    return "finite";
}

// Tolerances: running error bounds.
//
// The kernel computes the operations of the interpreter, but sums in another order (a sum over
// features in 16 lanes, then a pairwise combine of the lanes; a sum over tokens as per-thread
// partials merged in thread order; the interpreter adds in index order), and the float kernel
// rounds to float where its reference, the double interpreter on the same float inputs, does
// not. How far apart two such evaluations may be depends on the graph and on the data: "1e-9
// relative to the magnitude of the values involved" is right once the values involved are all
// the intermediate terms, not only the inputs and the output. E[a^2] - E[a]^2 of data of mean
// 1e4 and std 1e-2 is 1e-4 computed from terms of 1e8, then multiplied by 2e4, say; rsqrt of a
// variance that is rounding noise amplifies it 300 times. A fixed relative tolerance is too
// loose for well-conditioned outputs or fails these. So every element gets its own bound, from
// the values of every node (the interpreter evaluates them all), by a running error analysis
// (Wilkinson): for every node and element, e bounds |computed - exact| for any evaluation that
// rounds each operation to precision u (2^-53 in double, 2^-24 in float) and sums in any order:
//
//   a + b, a - b   ea + eb + u|v|                   sum of n terms   sum e + (n-1)u/(1-(n-1)u) sum |term|
//   a * b          |b| ea + |a| eb + ea eb + u|v|   a / b            (ea + |v| eb) / (|b| - eb) + u|v|
//   exp(a)         |v| (exp(ea) - 1) + 8u|v|        log(a)           -log(1 - ea / a) + 8u|v|
//   sqrt(a)        ea / (sqrt(a - ea) + sqrt(a)) + u|v|              rsqrt(a)  1/sqrt(a - ea) - v + 2u|v|
//   tanh(a)        min(ea, 2) + 8u|v|               erf(a)           min(2 ea / sqrt(pi), 2) + 16u|v|
//   -a             ea                               max(a, b)        max(ea, eb)
//   greater, select   exact, unless an operand's error could flip the comparison or the choice
//   broadcast(a, leaf)   ea (a copy of a, in derived graphs only)
//
// with v the node's value. 8u for the math library's exp, log and tanh, which are within 4 ulps
// but not correctly rounded (a float kernel calls libmvec's vector variants, within 4 ulps:
// cpu/vector_math.hpp; the scalar functions are within 2), 16u for erf (a float kernel's is a
// rational function, within 8 ulps); each u|v| also adds one subnormal, the absolute error of an
// underflow. Leaves and extents are exact (both evaluations read the same inputs); a constant is
// rounded once. The float kernel holds statistics (sums, and the PerToken, PerFeature and Scalar
// values computed from them) in double and computes Act values in float, a statistic entering a
// sum as two floats (cpu/nest_runner.hpp); the float bound, which assumes every operation in float,
// covers both.
//
// Each evaluation, the kernel's and its reference's, is within e of the exact value, so they are
// within 2e of each other. The tolerance is 4e: a factor 2 of margin for the math library, whose
// accuracy is documented, not proven. The report prints the largest |kernel - reference| / 4e;
// beyond 1/2 it would show a bound that is too tight before a kernel bug. A wrong kernel (a
// tile's tail skipped, a broadcast along the wrong axis, a partial merged twice, an operand
// swapped) is off by the size of the values themselves, far beyond 4e, which is a few ulps for a
// well-conditioned output. Where an operand's bound makes a division, a logarithm or rsqrt
// undefined, or could flip a comparison, or where an element could overflow the precision, the
// element is unbounded: only its determinism is checked (the report counts these elements).
//
// Non-finite values are not rounding errors. The double kernel must have NaN exactly where the
// double interpreter has NaN, and inf of the same sign where it has inf, wherever exact values
// decide it (their bound is 0: inf + 1 is inf whatever the order; a finite sum that overflows in
// one order may not in another, and is unbounded). The float kernel may overflow where double
// does not (exp(89) is inf in float, and inf - inf is NaN) and, with its double statistics, may
// not overflow where the float interpreter does (sum_t(x)^2 beyond 3.4e38 stays finite in
// double, and so does its log): its non-finite values must be those of the float interpreter
// where the float and the double interpreter agree on them, and are free where they disagree,
// which happens only past a float overflow.
constexpr double tolerance_per_bound = 4;

// e == 0 ? 0 : e * factor: an exact operand contributes nothing, even next to an infinity.
double scaled(double e, double factor) { return e == 0 ? 0 : e * factor; }

bool same_class(double a, double b) { return std::strcmp(class_of(a), class_of(b)) == 0; }

std::string shape_mismatch(std::size_t rows, std::size_t cols, std::size_t expected_rows, std::size_t expected_cols) {
    if (rows == expected_rows && cols == expected_cols) return {};
    return fmt::format("shape {} x {}, the interpreter's {} x {}", rows, cols, expected_rows, expected_cols);
}

}  // namespace

const char* name_of(data_kind kind) {
    switch (kind) {
    case data_kind::normal: return "normal";
    case data_kind::offset: return "offset (mean 1e4, std 1e-2)";
    case data_kind::overflow_float: return "exp overflow in float (|z| in 70..80 or 89..99)";
    case data_kind::overflow_double: return "exp overflow in double (|z| in 680..690 or 710..720)";
    }
    return "?";
}

case_spec case_for(std::uint64_t graph_seed, int index) {
    random_stream random{splitmix64(graph_seed * 0x100000001b3ULL + static_cast<std::uint64_t>(index))};
    case_spec spec;
    spec.data_seed = random.next();
    if (index < static_cast<int>(std::size(edge_shapes))) {
        std::tie(spec.tokens, spec.features) = edge_shapes[index];
    } else if (const unsigned large = random.next() % 100; large == 0) {
        spec.tokens = 1 + random.next() % 3;
        spec.features = random.next() % 2 == 0 ? 8192 : 4097;
    } else if (large == 1) {
        spec.tokens = random.next() % 2 == 0 ? 1000 : 1001;
        spec.features = one_of(random, std::array<std::size_t, 4>{1, 2, 3, 5});
    } else {
        spec.tokens = one_of(random, token_counts);
        spec.features = one_of(random, feature_counts);
    }
    if (index >= static_cast<int>(std::size(edge_shapes))) {
        const unsigned kind = random.next() % 20;
        spec.kind = kind < 10   ? data_kind::normal
                    : kind < 15 ? data_kind::offset
                    : kind < 18 ? data_kind::overflow_float
                                : data_kind::overflow_double;
    }
    // With 2 threads: the 1000-token cases, and one case in 64 with enough tokens for both
    // threads (the rest with 1 thread: a parallel region costs more than a small case).
    if (index % 64 == 32) spec.tokens = one_of(random, std::array<std::size_t, 6>{2, 3, 17, 64, 127, 1000});
    spec.two_threads = index % 64 == 32 || spec.tokens >= 1000;
    return spec;
}

case_inputs make_inputs(const case_spec& spec, std::uint64_t leaves) {
    random_stream random{spec.data_seed};
    const std::size_t t = spec.tokens;
    const std::size_t d = spec.features;
    const bool offset = spec.kind == data_kind::offset;
    const bool overflow = spec.kind == data_kind::overflow_float || spec.kind == data_kind::overflow_double;
    const auto normal = [&](std::uint64_t leaf, std::size_t rows, std::size_t cols, double mean, double stddev) {
        if ((leaves & leaf) == 0) return tensor<double>();
        tensor<double> values(rows, cols);
        for (std::size_t i = 0; i < values.size(); ++i) values.data()[i] = mean + stddev * random.normal();
        return values;
    };

    leaf_values<double> v;
    v.x = normal(has_leaf_x, t, d, offset ? 1e4 : 0.0, offset ? 1e-2 : 1.0);
    v.y = normal(has_leaf_y, t, d, offset ? 1e4 : 0.0, offset ? 1e-2 : 1.0);
    v.p = normal(has_leaf_p, t, 1, offset ? 1e4 : 0.0, offset ? 1e-2 : 1.0);
    v.g = normal(has_leaf_g, 1, d, 1.0, 0.5);
    v.b = normal(has_leaf_b, 1, d, 0.0, 1.0);
    v.s = random.normal();
    v.z = normal(has_leaf_z, t, d, 0.0, 1.0);
    if (overflow) {
        // Both signs: exp(z) overflows to inf for large positive z and underflows to 0 (through
        // subnormals) for large negative z; sigmoid(z) and silu(z) must then reach their limits.
        // Half the magnitudes lie past exp's overflow (88.7 in float, 709.8 in double), half
        // below it with room to spare (exp(80) = 6e34, exp(690) = 1e299): a sum of finite terms
        // close to the overflow may overflow in one summation order and not in another, so its
        // bound is unbounded and only its determinism would be checked.
        const bool in_float = spec.kind == data_kind::overflow_float;
        for (std::size_t i = 0; i < v.z.size(); ++i) {
            const bool past = random.next() % 2 == 0;
            const double low = in_float ? (past ? 89 : 70) : (past ? 710 : 680);
            const double magnitude = low + 10 * random.uniform();
            v.z.data()[i] = random.next() % 2 == 0 ? magnitude : -magnitude;
        }
    }
    // Masks: mostly random, sometimes all 1 (no padding) or all 0 (a graph with a masked mean must
    // then refuse the mask: check.hpp, mask_refused_by).
    if ((leaves & has_leaf_m) != 0) {
        v.m = tensor<double>(t, 1);
        const unsigned pattern = static_cast<unsigned>(random.next() % 20);
        for (std::size_t i = 0; i < t; ++i)
            v.m.data()[i] = pattern == 0 ? 0.0 : pattern < 3 ? 1.0 : (random.next() % 10 < 7 ? 1.0 : 0.0);
    }

    case_inputs in;
    in.rounded = converted<float>(v);
    in.rounded_exact = converted<double>(in.rounded);
    in.exact = std::move(v);
    return in;
}

double elementwise_bound(primitive op, double v, const double* a, const double* ea, const precision& p) {
    constexpr double unbounded = std::numeric_limits<double>::infinity();
    const int arity = op == primitive::select                                                    ? 3
                      : (op == primitive::neg || (op >= primitive::exp && op <= primitive::erf)) ? 1
                                                                                                 : 2;
    bool exact = true;
    for (int k = 0; k < arity; ++k) exact = exact && ea[k] == 0;
    if (!std::isfinite(v)) {
        // Deterministic on exact operands. Otherwise decided by exact non-finite operands when
        // the others cannot change the outcome (inf + a finite number is inf, inf - inf is
        // NaN, inf times a number of certain sign is an infinity of certain sign, max and
        // select pass a value on), or unbounded.
        if (exact) return 0;
        if (op == primitive::select) return a[0] != 0 ? ea[1] : ea[2];
        if (op == primitive::broadcast) return ea[0];
        if (op == primitive::max) {
            for (int k = 0; k < 2; ++k)
                if (ea[k] == 0 && (std::isnan(a[k]) || a[k] == v)) return 0;
            return unbounded;
        }
        if (op != primitive::add && op != primitive::sub && op != primitive::mul && op != primitive::div)
            return unbounded;
        bool decided = false;
        bool others_certain = true;
        for (int k = 0; k < arity; ++k) {
            if (!std::isfinite(a[k])) {
                if (ea[k] == 0) decided = true;
                else others_certain = false;
            } else if (op == primitive::mul || op == primitive::div) {
                others_certain = others_certain && ea[k] < std::abs(a[k]);
            } else {
                others_certain = others_certain && std::isfinite(ea[k]);
            }
        }
        return decided && others_certain ? 0 : unbounded;
    }
    const double rounding = p.unit * std::abs(v) + p.smallest;
    const double library = 8 * p.unit * std::abs(v) + p.smallest;  // exp, log, tanh: within 4 ulps
    double e = 0;
    switch (op) {
    case primitive::add:
    case primitive::sub: e = ea[0] + ea[1] + rounding; break;
    case primitive::mul:
        e = scaled(ea[0], std::abs(a[1])) + scaled(ea[1], std::abs(a[0])) + scaled(ea[0], ea[1]) + rounding;
        break;
    case primitive::div:
        if (!(ea[1] < std::abs(a[1]))) return unbounded;
        e = (ea[0] + scaled(ea[1], std::abs(v))) / (std::abs(a[1]) - ea[1]) + rounding;
        break;
    case primitive::neg: e = ea[0]; break;
    case primitive::exp:
        if (ea[0] > 700) return unbounded;
        e = (ea[0] == 0 ? 0 : std::max(std::abs(v), p.smallest) * std::expm1(ea[0])) + library;
        break;
    case primitive::log:
        if (ea[0] == 0) e = library;
        else if (!(ea[0] < a[0])) return unbounded;
        else e = -std::log1p(-ea[0] / a[0]) + library;
        break;
    case primitive::sqrt:
        if (ea[0] == 0) e = rounding;
        else if (a[0] > ea[0]) e = ea[0] / (std::sqrt(a[0] - ea[0]) + std::sqrt(a[0])) + rounding;
        else e = std::sqrt(a[0] + ea[0]) + rounding;
        break;
    case primitive::rsqrt:
        if (ea[0] == 0) e = 2 * rounding;
        else if (!(ea[0] < a[0])) return unbounded;
        else e = 1 / std::sqrt(a[0] - ea[0]) - 1 / std::sqrt(a[0]) + 2 * rounding;
        break;
    case primitive::tanh: e = std::min(ea[0], 2.0) + library; break;
    case primitive::erf: e = std::min(1.1283791670955126 * ea[0], 2.0) + 16 * p.unit * std::abs(v) + p.smallest; break;
    case primitive::max: e = std::max(ea[0], ea[1]); break;
    case primitive::greater:
        if (exact) return 0;
        e = std::abs(a[0] - a[1]) > ea[0] + ea[1] ? 0 : unbounded;
        break;
    case primitive::select:
        if (ea[0] != 0 && (a[0] == 0 || ea[0] >= std::abs(a[0]))) return unbounded;
        e = a[0] != 0 ? ea[1] : ea[2];
        break;
    case primitive::broadcast: e = ea[0]; break;  // a copy of its first operand (the second gives the shape)
    }
    // Where the precision could overflow, its result is not a rounding of this value.
    if (std::isnan(e) || std::abs(v) + e > p.largest) return unbounded;
    return e;
}

void sum_bound(view<const double> sum, view<const double> operand, view<const double> operand_bound, bool over_features,
               const precision& p, tensor<double>& out) {
    constexpr double unbounded = std::numeric_limits<double>::infinity();
    const std::size_t n = over_features ? operand.cols() : operand.rows();
    const double gamma = n < 2 ? 0 : static_cast<double>(n - 1) * p.unit / (1 - static_cast<double>(n - 1) * p.unit);
    for (std::size_t r = 0; r < sum.rows(); ++r)
        for (std::size_t c = 0; c < sum.cols(); ++c) {
            double errors = 0;
            double magnitudes = 0;
            bool exact_infinity = false;  // an exact non-finite term decides a non-finite sum
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t row = over_features ? r : i;
                const std::size_t col = over_features ? i : c;
                const double term = operand(row, col);
                const double e = operand_bound(row, col);
                errors += e;
                if (std::isfinite(term)) magnitudes += std::abs(term);
                else exact_infinity = exact_infinity || e == 0;
            }
            const double v = sum(r, c);
            if (!std::isfinite(v)) {
                out(r, c) = exact_infinity && std::isfinite(errors) ? 0 : unbounded;
                continue;
            }
            const double e = errors + gamma * magnitudes;
            out(r, c) = std::isnan(e) || std::abs(v) + e > p.largest ? unbounded : e;
        }
}

std::string compare_double(view<const double> kernel, view<const double> reference, view<const double> bound,
                           tally& seen, mismatch& where) {
    if (auto why = shape_mismatch(kernel.rows(), kernel.cols(), reference.rows(), reference.cols()); !why.empty())
        return why;
    for (std::size_t r = 0; r < kernel.rows(); ++r)
        for (std::size_t c = 0; c < kernel.cols(); ++c) {
            const double k = kernel(r, c);
            const double expected = reference(r, c);
            const double tolerance = tolerance_per_bound * bound(r, c);
            where = {r, c, k, expected, tolerance};
            if (std::isinf(tolerance)) {
                ++seen.unbounded;
                continue;
            }
            if (!std::isfinite(k) || !std::isfinite(expected)) {
                if (!same_class(k, expected))
                    return fmt::format("{} where the interpreter has {}", class_of(k), class_of(expected));
                ++seen.non_finite;
                continue;
            }
            const double error = std::abs(k - expected);
            if (!(error <= tolerance)) return "beyond the tolerance";
            ++seen.values;
            if (tolerance > 0) seen.worst = std::max(seen.worst, error / tolerance);
        }
    return {};
}

std::string compare_float(view<const float> kernel, view<const float> eager, view<const double> on_floats,
                          view<const double> bound, tally& seen, mismatch& where) {
    if (auto why = shape_mismatch(kernel.rows(), kernel.cols(), on_floats.rows(), on_floats.cols()); !why.empty())
        return why;
    for (std::size_t r = 0; r < kernel.rows(); ++r)
        for (std::size_t c = 0; c < kernel.cols(); ++c) {
            const double k = kernel(r, c);
            const double in_float = eager(r, c);
            const double in_double = static_cast<float>(on_floats(r, c));  // inf beyond float's range
            const double tolerance = tolerance_per_bound * bound(r, c);
            where = {r, c, k, in_double, tolerance};
            if (!std::isfinite(in_float) || !std::isfinite(in_double)) {
                // Past a float overflow: held to the interpreters where they agree.
                if (!same_class(in_float, in_double)) {
                    ++seen.unbounded;
                    continue;
                }
                if (!same_class(k, in_float))
                    return fmt::format("{} where the interpreter has {} in float and in double", class_of(k),
                                       class_of(in_float));
                ++seen.non_finite;
                continue;
            }
            if (std::isinf(tolerance)) {
                ++seen.unbounded;
                continue;
            }
            const double expected = on_floats(r, c);
            where.reference = expected;
            const double error = std::abs(k - expected);
            if (!(error <= tolerance))
                return std::isfinite(k) ? "beyond the tolerance"
                                        : fmt::format("{} where the interpreter is finite", class_of(k));
            ++seen.values;
            if (tolerance > 0) seen.worst = std::max(seen.worst, error / tolerance);
        }
    return {};
}

template <class T>
bool same_bits_of(view<const T> a, view<const T> b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        if (a.cols() > 0 && std::memcmp(a.row(r), b.row(r), a.cols() * sizeof(T)) != 0) return false;
    return true;
}
bool same_bits(view<const double> a, view<const double> b) { return same_bits_of(a, b); }
bool same_bits(view<const float> a, view<const float> b) { return same_bits_of(a, b); }

void report(int part, const summary& total, int expected_graphs) {
    const auto line = [](const char* name, const tally& t) {
        return fmt::format(
            "{} kernel: {} values within tolerance (worst error / tolerance {:.2g}), {} NaN or inf as "
            "expected, {} unbounded",
            name, t.values, t.worst, t.non_finite, t.unbounded);
    };
    fmt::print(
        "random graphs part {} of {}: {} graph types, {} graph x input cases ({} of them also with 2 threads)\n"
        "  {}\n  {}\n",
        part, parts, total.graphs, total.cases, total.two_thread_cases, line("double", total.in_double),
        line("float", total.in_float));
    CHECK(total.graphs == expected_graphs);
    CHECK(total.cases == static_cast<long long>(expected_graphs) * cases_per_graph);
}

std::vector<graph_record>& registry() {
    static std::vector<graph_record> graphs;
    return graphs;
}

// Gradients (gradients.hpp).

namespace {

// Finite differences: small shapes (check_gradient interprets the graph 13 times and its gradient
// once per step), 1 token or 1 feature included; attempts after skipped points cycle through them
// with new data.
constexpr std::pair<std::size_t, std::size_t> difference_shapes[] = {{3, 5}, {1, 1}, {4, 17}, {2, 3}, {6, 1}, {1, 9}};

// Kernels: the tile edges.
constexpr std::size_t gradient_token_counts[] = {0, 1, 64};
constexpr std::size_t gradient_feature_counts[] = {1, 15, 16, 17, 33};

}  // namespace

case_spec difference_case(std::uint64_t graph_seed, int attempt) {
    random_stream random{splitmix64(graph_seed * 0x9e3779b97f4a7c15ULL + 0x6a09e667f3bcc909ULL +
                                    static_cast<std::uint64_t>(attempt))};
    case_spec spec;
    const std::size_t shape = static_cast<std::size_t>(attempt) % std::size(difference_shapes);
    std::tie(spec.tokens, spec.features) = difference_shapes[shape];
    spec.kind = data_kind::normal;
    spec.data_seed = random.next();
    return spec;
}

case_inputs make_difference_inputs(const case_spec& spec, std::uint64_t leaves) {
    case_inputs in = make_inputs(spec, leaves);
    if ((leaves & has_leaf_m) != 0 && spec.tokens > 0) {
        bool counts = false;
        for (std::size_t i = 0; i < in.exact.m.size(); ++i) counts = counts || in.exact.m.data()[i] != 0;
        if (!counts) {
            in.exact.m.data()[0] = 1;
            in.rounded.m.data()[0] = 1;
            in.rounded_exact.m.data()[0] = 1;
        }
    }
    return in;
}

case_spec gradient_kernel_case(std::uint64_t graph_seed, int index) {
    random_stream random{splitmix64(graph_seed * 0x9e3779b97f4a7c15ULL + 0xbb67ae8584caa73bULL +
                                    static_cast<std::uint64_t>(index))};
    case_spec spec;
    spec.data_seed = random.next();
    constexpr int grid = static_cast<int>(std::size(gradient_token_counts) * std::size(gradient_feature_counts));
    constexpr int features = static_cast<int>(std::size(gradient_feature_counts));
    if (index < grid) {
        // Every shape, normal data.
        spec.tokens = gradient_token_counts[index / features];
        spec.features = gradient_feature_counts[index % features];
    } else if (index < grid + grid - features) {
        // The shapes with tokens again, offset data.
        const int k = index - grid + features;
        spec.tokens = gradient_token_counts[k / features];
        spec.features = gradient_feature_counts[k % features];
        spec.kind = data_kind::offset;
    } else {
        spec.tokens = one_of(random, token_counts);
        spec.features = one_of(random, feature_counts);
        spec.kind = random.next() % 2 == 0 ? data_kind::normal : data_kind::offset;
    }
    spec.two_threads = spec.tokens >= 64;
    return spec;
}

seed_inputs make_seeds(const case_spec& spec, const output_axes* outputs, std::size_t count) {
    random_stream random{splitmix64(spec.data_seed ^ 0x3c6ef372fe94f82bULL)};
    seed_inputs dy;
    for (std::size_t o = 0; o < count; ++o) {
        tensor<double> values(outputs[o].tokens ? spec.tokens : 1, outputs[o].features ? spec.features : 1);
        for (std::size_t i = 0; i < values.size(); ++i) values.data()[i] = random.normal();
        dy.rounded[o] = tensor<float>::copy_of(values.view());
        dy.rounded_exact[o] = tensor<double>::copy_of(dy.rounded[o].view());
        dy.exact[o] = std::move(values);
    }
    return dy;
}

namespace {

// One line of check_gradient's report: "direction k: finite difference a, derived b, error e".
struct difference_line {
    double difference = 0;
    double derived = 0;
    double error = 0;
};

std::vector<difference_line> read_report(const std::string& report, bool& readable) {
    std::vector<difference_line> lines;
    std::istringstream in(report);
    std::string line;
    readable = true;
    while (std::getline(in, line)) {
        difference_line d;
        int direction = 0;
        if (std::sscanf(line.c_str(), "direction %d: finite difference %lf, derived %lf, error %lf", &direction,
                        &d.difference, &d.derived, &d.error) != 4 ||
            direction != static_cast<int>(lines.size()))
            readable = false;
        lines.push_back(d);
    }
    readable = readable && !lines.empty();
    return lines;
}

}  // namespace

difference_verdict judge_differences(const gradient_check_result& at_h, const gradient_check_result& at_tenth,
                                     double tolerance) {
    bool readable_h = false;
    bool readable_tenth = false;
    const std::vector<difference_line> h = read_report(at_h.report, readable_h);
    const std::vector<difference_line> tenth = read_report(at_tenth.report, readable_tenth);
    if (!readable_h || !readable_tenth || h.size() != tenth.size()) return difference_verdict::unreadable;
    for (std::size_t k = 0; k < h.size(); ++k) {
        // NaN (or inf) anywhere: normal data keeps every value finite, so a broken graph or gradient.
        if (!std::isfinite(h[k].difference) || !std::isfinite(tenth[k].difference) || !std::isfinite(h[k].derived) ||
            !std::isfinite(h[k].error) || !std::isfinite(tenth[k].error))
            return difference_verdict::not_finite;
    }
    // Converged: in every direction, the derived gradient fails at both steps and the two
    // differences agree within the tolerance, relative to the check's scale max(|difference|,
    // sum <|grad|, |v|>) (recovered from its error). Every direction, not one: where rounding
    // dominates, the two differences are multiples of the same rounding unit, and one direction in
    // ten or so gives equal differences by chance; a wrong gradient shows in every direction.
    for (std::size_t k = 0; k < h.size(); ++k) {
        if (h[k].error <= tolerance || tenth[k].error <= tolerance) return difference_verdict::depends_on_step;
        const double scale = std::abs(h[k].difference - h[k].derived) / h[k].error;
        if (!(std::abs(h[k].difference - tenth[k].difference) <= tolerance * scale))
            return difference_verdict::depends_on_step;
    }
    return difference_verdict::converged;
}

std::string compare_float_to_double(view<const float> kernel, view<const double> on_floats, view<const double> bound,
                                    tally& seen, mismatch& where) {
    // The double reference rounded to float stands for the float interpreter: compare_float then
    // holds a non-finite reference to its class, and a finite one to the bound.
    const tensor<float> rounded = tensor<float>::copy_of(on_floats);
    return compare_float(kernel, rounded.view(), on_floats, bound, seen, where);
}

void report_gradients(int part, const gradient_summary& total, int expected_graphs) {
    fmt::print(
        "random gradients part {} of {}: {} graphs\n"
        "  finite differences: {} points checked ({} at the smaller step), {} skipped, worst error {:.2g}\n"
        "  float kernel of the gradient: {} cases ({} also with 2 threads), {} values within tolerance (worst error / "
        "tolerance {:.2g}), {} NaN or inf as expected, {} unbounded\n",
        part, gradient_parts, total.graphs, total.points, total.points_at_smaller_step, total.points_skipped,
        total.worst_difference_error, total.kernel_cases, total.two_thread_cases, total.in_float.values,
        total.in_float.worst, total.in_float.non_finite, total.in_float.unbounded);
    CHECK(total.graphs == expected_graphs);
    CHECK(total.points == static_cast<long long>(expected_graphs) * difference_points_per_graph);
    CHECK(total.kernel_cases == static_cast<long long>(expected_graphs) * gradient_kernel_cases);
}

std::vector<gradient_record>& gradient_registry() {
    static std::vector<gradient_record> graphs;
    return graphs;
}

}  // namespace etna::testing::random_check

// judge_differences on reports of known kinds, and on check_gradient's own reports (whose format
// it reads).
TEST_CASE("random gradients: differences that depend on the step are told from a wrong gradient", "[random]") {
    using namespace etna;
    using namespace etna::testing::random_check;
    const auto report = [](std::initializer_list<std::array<double, 3>> lines) {
        gradient_check_result r;
        r.passed = false;
        int k = 0;
        for (const auto& [difference, derived, error] : lines)
            r.report += fmt::format("direction {}: finite difference {:.12g}, derived {:.12g}, error {:.2g}{}\n", k++,
                                    difference, derived, error, error > 1e-6 ? " (too large)" : "");
        return r;
    };
    // A wrong gradient: the same differences at both steps, 10 % from the derived values.
    const auto wrong_h = report({{1.0, 1.1, 0.091}, {-2.0, -2.2, 0.091}, {0.5, 0.55, 0.091}});
    const auto wrong_tenth = report({{1.0000000001, 1.1, 0.091}, {-2.0, -2.2, 0.091}, {0.5, 0.55, 0.091}});
    CHECK(judge_differences(wrong_h, wrong_tenth, 1e-6) == difference_verdict::converged);
    // Rounding: the differences move with the step; equal in one direction by chance.
    const auto rounding_h = report({{1.0001, 1.0, 1e-4}, {-2.0002, -2.0, 1e-4}, {0.50005, 0.5, 1e-4}});
    const auto rounding_tenth = report({{1.001, 1.0, 1e-3}, {-2.0002, -2.0, 1e-4}, {0.4995, 0.5, 1e-3}});
    CHECK(judge_differences(rounding_h, rounding_tenth, 1e-6) == difference_verdict::depends_on_step);
    // A direction that passes at one step is no evidence of a wrong gradient.
    const auto passes_tenth = report({{1.0, 1.1, 0.091}, {-2.0, -2.2, 0.091}, {0.55, 0.55, 0}});
    CHECK(judge_differences(wrong_h, passes_tenth, 1e-6) == difference_verdict::depends_on_step);
    const auto not_finite = report({{NAN, 1.1, INFINITY}, {-2.0, -2.2, 0.091}, {0.5, 0.55, 0.091}});
    CHECK(judge_differences(not_finite, wrong_tenth, 1e-6) == difference_verdict::not_finite);
    gradient_check_result garbled;
    garbled.report = "direction 0: something else\n";
    CHECK(judge_differences(garbled, wrong_tenth, 1e-6) == difference_verdict::unreadable);

    // check_gradient's own reports, readable: steps so large that the (fourth-order) central
    // difference of exp is off at both, by an error that falls as h^4 (so, not converged).
    using namespace etna::testing::random_leaves;
    tensor<double> values(3, 4);
    for (std::size_t i = 0; i < values.size(); ++i) values.data()[i] = 0.1 * static_cast<double>(i % 5) - 0.2;
    gradient_check_options options;
    options.step = 1.0;
    const gradient_check_result large = check_gradient(options, exp(constant<5.0> * x), wrt(x), x = values);
    options.step = 0.3;
    const gradient_check_result smaller = check_gradient(options, exp(constant<5.0> * x), wrt(x), x = values);
    INFO(large.report << smaller.report);
    REQUIRE_FALSE(large.passed);
    REQUIRE_FALSE(smaller.passed);
    CHECK(judge_differences(large, smaller, options.tolerance) == difference_verdict::depends_on_step);
}
