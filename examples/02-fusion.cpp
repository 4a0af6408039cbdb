// Lesson 02: fusion: pre-norm and post-norm blocks compiled to one loop nest, BatchNorm to three.
//
// This lesson compiles a pre-norm and a post-norm transformer block into fused CPU kernels,
// prints their plans, checks them against the reference interpreter, writes the pre-norm
// residual stream into the caller's buffers (and in place), and then compiles BatchNorm, whose
// statistics over all tokens need more than one loop nest. It is built as the target 02-fusion
// and run by ctest as tutorial.02-fusion; docs/tutorial/02-fusion.md quotes its source and output.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <etna/etna.hpp>

using namespace etna;

// The largest |a - b| over all elements, in double (a and b of the same shape).
template <class A, class B>
double largest_difference(view<A> a, view<B> b) {
    double largest = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            largest = std::fmax(largest, std::fabs(static_cast<double>(a(r, c)) - static_cast<double>(b(r, c))));
    return largest;
}

// True when a and b have the same shape and every element has the same bits.
bool same_bits(view<const float> a, view<const float> b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            if (std::bit_cast<std::uint32_t>(a(r, c)) != std::bit_cast<std::uint32_t>(b(r, c))) return false;
    return true;
}

// The first and the last line of explain's text: the plan's shape and its memory per token.
std::string outline(std::string_view plan) {
    plan.remove_suffix(plan.ends_with('\n') ? 1 : 0);
    return fmt::format("{}\n{}\n", plan.substr(0, plan.find('\n')), plan.substr(plan.rfind('\n') + 1));
}

// The arrays of T x D values an eager evaluation moves: run node by node, as the interpreter or
// a framework calling one operation at a time does, every Act node writes its result once and
// reads each of its distinct Act operands once. (PerToken and PerFeature values are O(T) or
// O(D): left out.)
template <class Plan>
constexpr int eager_arrays(const Plan& plan) {
    int arrays = 0;
    for (int i = 0; i < static_cast<int>(plan.node_count); ++i) {
        if (plan.is_source(i)) continue;
        const auto& node = plan.info[i];
        if (plan.is_act(i)) ++arrays;
        for (int k = 0; k < node.operand_count; ++k) {
            bool repeated = false;
            for (int m = 0; m < k; ++m) repeated = repeated || node.operands[m] == node.operands[k];
            if (!repeated && plan.is_act(node.operands[k])) ++arrays;
        }
    }
    return arrays;
}

// 1. Leaves: x, the residual stream (Act: T tokens x D features); g and b, LayerNorm's scale
// and shift (PerFeature); y, a sublayer's output (Act), used for the residual stream below.
//! [leaves]
constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
//! [leaves]

int main() {
    int failures = 0;

    // 2. Two blocks.
    // A transformer block adds a sublayer's output to the residual stream x. Pre-norm
    // normalizes the sublayer's input: x + F(LN(x)). Post-norm normalizes the sum: LN(x + F(x)).
    // The sublayer here is pointwise (GELU), standing in for attention or a feed-forward
    // network until linear layers arrive. Both blocks are ordinary expressions.
    fmt::print("== two blocks\n");
    //! [blocks]
    constexpr auto pre = pre_norm(x, [](auto v) { return layer_norm(v, g, b); }, [](auto h) { return gelu(h); });
    constexpr auto post = post_norm(x, [](auto v) { return layer_norm(v, g, b); }, [](auto h) { return gelu(h); });
    fmt::print("pre-norm:\n{}\n\npost-norm:\n{}\n", pre, post);
    //! [blocks]

    // 3. Compiling, and the plans.
    // compile(expr) plans the expression at compile time and returns a kernel: a callable
    // object whose loops are instantiated for this graph. explain(kernel) prints the plan as
    // pseudo-C: the loop nests over tokens, inside each the loops over a token's features, the
    // per-token values computed between them, and the memory moved per token.
    fmt::print("\n== plans\n");
    //! [compile]
    auto pre_kernel = compile(pre);
    auto post_kernel = compile(post);
    fmt::print("pre-norm:\n{}\npost-norm:\n{}", explain(pre_kernel), explain(post_kernel));
    //! [compile]

    // The plan is a compile-time value, so its shape is checked at compile time: one nest over
    // the tokens, and in it three loops over a token's features (the sum for the mean, the sum
    // for the variance, the output). If the planner ever needed more, this would not compile.
    //! [one_nest]
    static_assert(pre_kernel.plan.loop_nests() == 1 && pre_kernel.plan.loops[0] == 3);
    static_assert(post_kernel.plan.loop_nests() == 1 && post_kernel.plan.loops[0] == 3);
    //! [one_nest]

    // What fusion saves: evaluated node by node, every intermediate is an array of T x D values
    // written to memory and read back. The fused kernel reads x and writes the output: two.
    //! [eager]
    fmt::print("\neager LayerNorm: {} arrays of T x D values written or read\n",
               eager_arrays(compile(layer_norm(x, g, b)).plan));
    fmt::print("eager pre-norm block: {}, post-norm block: {}\n", eager_arrays(pre_kernel.plan),
               eager_arrays(post_kernel.plan));
    //! [eager]

    // 4. Running them.
    // A small batch: T = 6 tokens of D = 20 features, so a token's loop runs over one full tile
    // of 16 features and one partial tile of 4. The values are a fixed pattern (no random
    // numbers: the output of this program is quoted verbatim by its page).
    fmt::print("\n== kernel and interpreter\n");
    //! [data]
    constexpr std::size_t T = 6, D = 20;
    tensor<double> X(T, D), Y(T, D);
    std::vector<double> G(D), B(D);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t j = 0; j < D; ++j) {
            X(t, j) = 0.25 * static_cast<double>((7 * t + 3 * j) % 11) - 1.0 + 0.5 * static_cast<double>(t);
            Y(t, j) = 0.1 * static_cast<double>((5 * t + 2 * j) % 7) - 0.3;
        }
    for (std::size_t j = 0; j < D; ++j) {
        G[j] = 1.0 + 0.05 * static_cast<double>(j);
        B[j] = 0.1 * static_cast<double>(j % 3);
    }
    //! [data]

    // The kernel computes in the element type of the data it is given: double here, float for
    // a float copy of the same data. The interpreter in double is the reference. In double the
    // kernel and the interpreter differ only in the order of the sums over features (the kernel
    // keeps 16 partial sums, one per lane); in float, by float's rounding as well.
    //! [check]
    const tensor<float> Xf = tensor<float>::copy_of(X.view());
    const tensor<float> Yf = tensor<float>::copy_of(Y.view());
    const std::vector<float> Gf(G.begin(), G.end()), Bf(B.begin(), B.end());
    constexpr double double_tolerance = 1e-12, float_tolerance = 1e-5;

    const auto check = [&](const char* name, auto& kernel, auto block) {
        const tensor<double> reference = interpret<double>(block, x = X, g = G, b = B);
        const double in_double = largest_difference(kernel(x = X, g = G, b = B).view(), reference.view());
        const double in_float = largest_difference(kernel(x = Xf, g = Gf, b = Bf).view(), reference.view());
        fmt::print("{}: largest |kernel - interpreter| = {:.1e} in double, {:.1e} in float\n", name, in_double,
                   in_float);
        return in_double <= double_tolerance && in_float <= float_tolerance;
    };
    failures += !check("pre-norm ", pre_kernel, pre);
    failures += !check("post-norm", post_kernel, post);
    //! [check]

    // 5. The pre-norm residual stream.
    // In a pre-norm transformer the stream is updated by each sublayer, r = x + y, and the next
    // sublayer reads LN(r). One graph with two outputs computes both, in one nest: outputs(...)
    // makes a graph of several expressions, and into(...) passes the caller's buffers, one per
    // output, so that the call allocates nothing (once its workspace has this call's shapes).
    fmt::print("\n== the residual stream\n");
    //! [stream]
    constexpr auto r = x + y;
    constexpr auto stream_graph = outputs(r, layer_norm(r, g, b));
    auto stream = compile(stream_graph);
    static_assert(stream.plan.loop_nests() == 1 && stream.plan.loops[0] == 3);
    fmt::print("{}", explain(stream));

    tensor<float> R(T, D), N(T, D);
    stream(into(R, N), x = Xf, y = Yf, g = Gf, b = Bf);
    //! [stream]
    {
        const auto [r_reference, n_reference] = interpret<double>(stream_graph, x = X, y = Y, g = G, b = B);
        const double difference = std::fmax(largest_difference(R.view(), r_reference.view()),
                                            largest_difference(N.view(), n_reference.view()));
        fmt::print("largest |kernel - interpreter| over both outputs = {:.1e} in float\n", difference);
        failures += difference > float_tolerance;
    }

    // 6. In place.
    // The stream is usually updated in place: x += y. Here output 0 is given x's own buffer.
    // The kernel allows it because the plan writes each output row in the last loop over that
    // token's features, after every read of the token's row of x, and no later nest reads x.
    fmt::print("\n== in place\n");
    //! [in_place]
    tensor<float> stream_x = Xf;  // the residual stream, to be updated in place
    tensor<float> normed(T, D);
    stream(into(stream_x, normed), x = stream_x, y = Yf, g = Gf, b = Bf);
    const bool same = same_bits(stream_x.view(), R.view()) && same_bits(normed.view(), N.view());
    fmt::print("in place: {}\n", same ? "bitwise the same as into separate buffers" : "DIFFERENT");
    //! [in_place]
    failures += !same;

    // 7. BatchNorm.
    // BatchNorm's mean and variance are sums over tokens: every token's output needs every
    // token's input. Each sum over tokens needs a loop over all tokens, and a value computed
    // from it can be used per token only in a later loop over all tokens: a new nest. Its
    // variance is taken in two passes, as the mean of the centred values' squares, so there
    // are three nests: sum x; sum (x - mean)^2; write the output.
    fmt::print("\n== BatchNorm\n");
    //! [batch_norm]
    constexpr auto bn = batch_norm(x, g, b);
    auto bn_kernel = compile(bn);
    static_assert(bn_kernel.plan.loop_nests() == 3);
    fmt::print("{}\n{}", bn, explain(bn_kernel));
    //! [batch_norm]

    // Sums over tokens are accumulated per thread and merged in thread order, so their last
    // digits depend on the thread count: this check prints its verdict, not the digits.
    //! [batch_norm_check]
    const tensor<double> bn_reference = interpret<double>(bn, x = X, g = G, b = B);
    const bool bn_agrees =
        largest_difference(bn_kernel(x = Xf, g = Gf, b = Bf).view(), bn_reference.view()) <= float_tolerance;
    fmt::print("BatchNorm kernel and interpreter agree within {:.0e} in float: {}\n", float_tolerance,
               bn_agrees ? "yes" : "NO");
    //! [batch_norm_check]
    failures += !bn_agrees;

    // 8. One pass or two.
    // The textbook one-pass variance, E[x^2] - E[x]^2, needs only sums of x and of x^2, both of
    // which the first nest can accumulate: BatchNorm written with it plans to two nests.
    fmt::print("\n== one pass or two\n");
    //! [one_pass]
    constexpr auto mu = mean_t(x);
    constexpr auto one_pass_bn = (x - mu) * rsqrt(mean_t(x * x) - mu * mu + constant<1e-5>) * g + b;
    auto one_pass_kernel = compile(one_pass_bn);
    static_assert(one_pass_kernel.plan.loop_nests() == 2);
    fmt::print("two-pass BatchNorm:\n{}one-pass BatchNorm:\n{}", outline(explain(bn_kernel)),
               outline(explain(one_pass_kernel)));
    //! [one_pass]

    // The nest it saves is one read of x, a quarter of the traffic. What it costs: features with
    // a large mean and a small spread, here mean 1e4 and standard deviation 1e-2, T = 8 tokens
    // of D = 3 features in float. Both variances are outputs of one kernel; one thread, so that
    // the digits printed do not depend on the machine's core count.
    //! [variances]
    constexpr auto variance_two_pass = mean_t(square(x - mean_t(x)));
    constexpr auto variance_one_pass = mean_t(x * x) - square(mean_t(x));
    tensor<float> offset(8, 3);
    for (std::size_t t = 0; t < 8; ++t)
        for (std::size_t j = 0; j < 3; ++j)
            offset(t, j) = static_cast<float>(1e4 + 1e-2 * (static_cast<double>((3 * t + j) % 7) - 3.0) / 2.0);
    auto variances = compile(variance_two_pass, variance_one_pass);
    variances.set_threads(1);
    const auto [two_pass, one_pass] = variances(x = offset);
    const tensor<double> offset_in_double = tensor<double>::copy_of(offset.view());
    const auto exact = interpret<double>(variance_two_pass, x = offset_in_double);
    fmt::print("exact (double):  {:.4e}\n", exact);
    fmt::print("two-pass, float: {:.4e}\none-pass, float: {:.4e}\n", two_pass, one_pass);
    //! [variances]
    // The claims, checked: the two-pass variances within 1% of the exact ones (about 1e-4),
    // the one-pass ones not.
    failures += largest_difference(two_pass.view(), exact.view()) > 1e-6;
    failures += largest_difference(one_pass.view(), exact.view()) <= 1e-6;

    // 9. An overlap the kernel refuses.
    // The same in-place call as in section 6, with BatchNorm in place of LayerNorm: output 0,
    // r = x + y, is written in nest 0, and nests 1 and 2 read x again to recompute r. Writing r
    // over x would change what they read, so the kernel throws etna::error before computing
    // anything, naming the output and the leaf.
    fmt::print("\n== refused\n");
    //! [refused]
    auto bn_stream = compile(outputs(r, batch_norm(r, g, b)));
    try {
        bn_stream(into(stream_x, normed), x = stream_x, y = Yf, g = Gf, b = Bf);
        fmt::print("NOT REFUSED\n");
        ++failures;
    } catch (const etna::error& e) {
        fmt::print("{}\n", e.what());
    }
    const bool untouched = same_bits(stream_x.view(), R.view());
    fmt::print("stream_x after the refused call: {}\n", untouched ? "untouched" : "CHANGED");
    //! [refused]
    failures += !untouched;

    return failures == 0 ? 0 : 1;
}
