// Random etna graphs decided at compile time by a seed: random_graph<Seed>() reaches every node kind.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <boost/hana/tuple.hpp>

#include <etna/etna.hpp>
#include <support/deep_chain.hpp>

namespace etna::testing {

// The leaves random graphs read, one of every kind. The names are one letter so that printed
// formulas stay short. A graph reads a subset of them; its caller binds exactly that subset.
namespace random_leaves {
inline constexpr auto x = input<"x">;            // Act
inline constexpr auto y = input<"y">;            // Act, a second one
inline constexpr auto z = input<"z">;            // Act, read only by exp directly (or by sigmoid/silu, which do):
                                                 // tests bind values near exp's overflow to it
inline constexpr auto p = input<"p", PerToken>;  // PerToken, arbitrary values
inline constexpr auto m = mask<"m">;             // PerToken mask: 0/1 only (bound masks are validated)
inline constexpr auto g = param<"g">;            // PerFeature
inline constexpr auto b = param<"b">;            // PerFeature, a second one (beta of the norms)
inline constexpr auto s = scalar<"s">;           // Scalar, bound at run time
}  // namespace random_leaves

namespace random_graph_detail {

using namespace random_leaves;

// splitmix64 (Steele, Lea, Flood 2014): a constexpr mixer whose outputs pass BigCrush, so that
// nearby seeds give unrelated graphs.
constexpr std::uint64_t splitmix64(std::uint64_t state) {
    std::uint64_t z = state + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The seed of a node's k-th operand. The choice made at a node (pick) draws from another
// stream, so that a child's production does not repeat its parent's.
constexpr std::uint64_t child(std::uint64_t seed, unsigned k) {
    return splitmix64(seed + 0xd1b54a32d192ed03ULL * (k + 1));
}
constexpr unsigned pick(std::uint64_t seed, unsigned n) {
    return static_cast<unsigned>(splitmix64(seed ^ 0x5851f42d4c957f2dULL) % n);
}

// No shared sub-expression in reach (see `Shared` below).
struct no_shared {};

// Compile-time constants a graph may hold; small and of both signs, none that makes the safe
// forms below unsafe.
inline constexpr std::array<double, 6> constants = {0.5, 2.0, -1.5, 1e-3, 3.0, -0.25};

// The generators. Each takes its seed S, the depth D it may still grow (leaves at 0) and Shared:
// an Act sub-expression that any Act leaf position may pick instead of a leaf, so that one
// sub-expression is used at several random places of the graph (a DAG, not a tree), or
// no_shared. They only instantiate the production they choose, which keeps compile time linear
// in the size of the graph.
//
// Kinds are valid by construction: an Act value may meet any kind, a PerToken value only
// PerToken and Scalar values, a PerFeature value only PerFeature and Scalar values; a PerToken
// and a PerFeature value meet only through an Act value (`pt * a + pf`).
//
// Values stay tame for inputs of order 1 (and for mean 1e4, std 1e-2): the primitives that are
// undefined or overflow somewhere appear in safe forms (log(1 + a*a), sqrt(1 + a*a),
// a / (1 + b*b), exp(tanh(a)), exp(-(a*a))), except raw exp of the leaf z, where overflow is the
// point. greater and select take their conditions from leaves (or masks) only: a comparison of
// two computed values could flip between float and double on a near tie, and one flipped 0/1
// is not a rounding error.
template <std::uint64_t S, int D, class Shared>
constexpr auto act();
template <std::uint64_t S, int D, class Shared>
constexpr auto per_token();
template <std::uint64_t S, int D, class Shared>
constexpr auto per_feature();
template <std::uint64_t S, int D, class Shared>
constexpr auto scalar_value();

// A value of any kind, mostly Act (the kind that meets all others).
template <std::uint64_t S, int D, class Shared>
constexpr auto any_kind() {
    constexpr unsigned c = pick(S, 8);
    if constexpr (c < 3) return act<child(S, 0), D, Shared>();
    else if constexpr (c < 5) return per_token<child(S, 0), D, Shared>();
    else if constexpr (c < 7) return per_feature<child(S, 0), D, Shared>();
    else return scalar_value<child(S, 0), D, Shared>();
}

// Values that combine with a PerToken (or PerFeature) value.
template <std::uint64_t S, int D, class Shared>
constexpr auto per_token_or_scalar() {
    if constexpr (pick(S, 3) < 2) return per_token<child(S, 0), D, Shared>();
    else return scalar_value<child(S, 0), D, Shared>();
}
template <std::uint64_t S, int D, class Shared>
constexpr auto per_feature_or_scalar() {
    if constexpr (pick(S, 3) < 2) return per_feature<child(S, 0), D, Shared>();
    else return scalar_value<child(S, 0), D, Shared>();
}

template <std::uint64_t S>
constexpr auto literal_value() {
    return constant<constants[pick(S, constants.size())]>;
}

// A 0/1 condition read off leaves only, of any kind an Act select accepts.
template <std::uint64_t S>
constexpr auto leaf_condition() {
    constexpr unsigned c = pick(S, 9);
    if constexpr (c == 0) return greater(x, y);
    else if constexpr (c == 1) return greater(x, g);
    else if constexpr (c == 2) return greater(p, s);
    else if constexpr (c == 3) return greater(y, constant<0.5>);
    else if constexpr (c == 4) return greater(g, constant<1.0>);
    else if constexpr (c == 5) return greater(x, p);
    else if constexpr (c == 6) return greater(s, constant<0.0>);
    else if constexpr (c == 7) return greater(b, g);
    else return m;
}
// The same for a PerToken select (no PerFeature condition) and a PerFeature one (no PerToken).
template <std::uint64_t S>
constexpr auto per_token_condition() {
    constexpr unsigned c = pick(S, 3);
    if constexpr (c == 0) return greater(p, s);
    else if constexpr (c == 1) return greater(p, constant<0.0>);
    else return m;
}
template <std::uint64_t S>
constexpr auto per_feature_condition() {
    if constexpr (pick(S, 2) == 0) return greater(g, constant<1.0>);
    else return greater(b, g);
}

// Unary maps, each safe on any finite input.
template <std::uint64_t S, expression A>
constexpr auto safe_unary(A a) {
    constexpr unsigned c = pick(S, 9);
    if constexpr (c == 0) return -a;
    else if constexpr (c == 1) return exp(tanh(a));
    else if constexpr (c == 2) return log(constant<1.0> + a * a);
    else if constexpr (c == 3) return sqrt(constant<1.0> + a * a);
    else if constexpr (c == 4) return rsqrt(constant<1.0> + a * a) * a;
    else if constexpr (c == 5) return tanh(a);
    else if constexpr (c == 6) return erf(a);
    else if constexpr (c == 7) return exp(-(a * a));
    else return a / (constant<2.0> + tanh(a));
}

// What max_f and max_t take: leaves, or a leaf scaled per feature (x * g, one rounding). Which
// element is the maximum decides where the gradient goes, and among values computed further a
// near tie could pick another element in float than in double (as a comparison could,
// leaf_condition).
template <std::uint64_t S>
constexpr auto leaf_maximum_operand() {
    constexpr unsigned c = pick(S, 3);
    if constexpr (c == 0) return x;
    else if constexpr (c == 1) return y;
    else return x * g;
}

template <std::uint64_t S, class Shared>
constexpr auto act_leaf() {
    constexpr unsigned c = pick(S, std::is_same_v<Shared, no_shared> ? 2 : 4);
    if constexpr (c == 0) return x;
    else if constexpr (c == 1) return y;
    else return Shared{};
}

// exp applied directly to the leaf z (where tests put values near overflow), raw or as
// sigmoid/silu (1 / (1 + exp(-z)), whose overflow to inf gives the right limit 0).
template <std::uint64_t S>
constexpr auto exp_of_z() {
    constexpr unsigned c = pick(S, 5);
    if constexpr (c == 0) return exp(z);
    else if constexpr (c == 1) return exp(-z);
    else if constexpr (c == 2) return sigmoid(z);
    else if constexpr (c == 3) return silu(z);
    else return exp(z) * sigmoid(-z);
}

// Sub-expressions used twice or more by one production: a DAG even without Shared.
template <std::uint64_t S, expression C>
constexpr auto shared_use(C c) {
    constexpr unsigned k = pick(S, 8);
    if constexpr (k == 0) return c - mean_f(c);
    else if constexpr (k == 1) return c - mean_t(c);
    else if constexpr (k == 2) return c * tanh(c) + c;
    else if constexpr (k == 3) return residual(c, [](auto v) { return gelu(v); });
    else if constexpr (k == 4) {
        constexpr auto norm = [](auto v) { return layer_norm(v, g, b); };
        return pre_norm(c, norm, [](auto h) { return gelu_tanh(h); });
    } else if constexpr (k == 5) {
        constexpr auto norm = [](auto v) { return rms_norm(v, g); };
        return post_norm(c, norm, [](auto h) { return tanh(h); });
    }
    else if constexpr (k == 6) return deep_chain<2>(tanh(c));
    else return max(c, mean_f(c)) - c;
}

template <std::uint64_t S, int D, class Shared>
constexpr auto act() {
    constexpr unsigned c = D <= 0 ? 0 : pick(S, 26);
    if constexpr (c < 2) return act_leaf<child(S, 4), Shared>();
    else if constexpr (c == 2) return act<child(S, 1), D - 1, Shared>() + any_kind<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 3) return act<child(S, 1), D - 1, Shared>() - any_kind<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 4) return any_kind<child(S, 3), D - 1, Shared>() * act<child(S, 1), D - 1, Shared>();
    else if constexpr (c == 5)
        return act<child(S, 1), D - 1, Shared>() / (constant<1.0> + square(any_kind<child(S, 3), D - 1, Shared>()));
    else if constexpr (c == 6) return -act<child(S, 1), D - 1, Shared>();
    else if constexpr (c == 7) return exp(tanh(act<child(S, 1), D - 1, Shared>()));
    else if constexpr (c == 8) return log(constant<1.0> + square(act<child(S, 1), D - 1, Shared>()));
    else if constexpr (c == 9) return sqrt(constant<1.0> + square(act<child(S, 1), D - 1, Shared>()));
    else if constexpr (c == 10)
        return rsqrt(constant<1.0> + square(act<child(S, 1), D - 1, Shared>())) * act<child(S, 2), D - 1, Shared>();
    else if constexpr (c == 11) return tanh(act<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 12) return erf(act<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 13) return max(act<child(S, 1), D - 1, Shared>(), any_kind<child(S, 3), D - 1, Shared>());
    else if constexpr (c == 14)
        return select(leaf_condition<child(S, 5)>(), act<child(S, 1), D - 1, Shared>(),
                      act<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 15) return leaf_condition<child(S, 5)>() * act<child(S, 1), D - 1, Shared>();
    else if constexpr (c == 16) return layer_norm(act<child(S, 1), D - 1, Shared>(), g, b);
    else if constexpr (c == 17) return rms_norm(act<child(S, 1), D - 1, Shared>(), g);
    else if constexpr (c == 18) return batch_norm(act<child(S, 1), D - 1, Shared>(), g, b);
    else if constexpr (c == 19) return batch_norm_masked(act<child(S, 1), D - 1, Shared>(), m, g, b);
    else if constexpr (c == 20) {
        constexpr unsigned k = pick(child(S, 6), 5);
        if constexpr (k == 0) return gelu(act<child(S, 1), D - 1, Shared>());
        else if constexpr (k == 1) return gelu_tanh(act<child(S, 1), D - 1, Shared>());
        else if constexpr (k == 2) return silu(act<child(S, 1), D - 1, Shared>());
        else if constexpr (k == 3) return sigmoid(act<child(S, 1), D - 1, Shared>());
        else return relu(act<child(S, 1), D - 1, Shared>());
    } else if constexpr (c == 21 || c == 22) return shared_use<child(S, 6)>(act<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 23) return exp_of_z<child(S, 6)>() * act<child(S, 1), D - 1, Shared>();
    else if constexpr (c == 24)
        return per_token<child(S, 7), D - 1, Shared>() * act<child(S, 1), D - 1, Shared>() +
               per_feature<child(S, 8), D - 1, Shared>();
    else return safe_unary<child(S, 6)>(act<child(S, 1), D - 1, Shared>());
}

template <std::uint64_t S, int D, class Shared>
constexpr auto per_token() {
    constexpr unsigned c = D <= 0 ? pick(S, 2) : pick(S, 14);
    if constexpr (c == 0) return p;
    else if constexpr (c == 1) return m;
    else if constexpr (c == 2) {
        if constexpr (pick(child(S, 9), 3) == 0) return max_f(leaf_maximum_operand<child(S, 10)>());
        else return sum_f(act<child(S, 1), D - 1, Shared>());
    } else if constexpr (c == 3 || c == 4) return mean_f(act<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 5)
        return per_token<child(S, 2), D - 1, Shared>() + per_token_or_scalar<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 6)
        return per_token<child(S, 2), D - 1, Shared>() - per_token_or_scalar<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 7)
        return per_token_or_scalar<child(S, 3), D - 1, Shared>() * per_token<child(S, 2), D - 1, Shared>();
    else if constexpr (c == 8)
        return per_token<child(S, 2), D - 1, Shared>() /
               (constant<1.0> + square(per_token_or_scalar<child(S, 3), D - 1, Shared>()));
    else if constexpr (c == 9) return safe_unary<child(S, 4)>(per_token<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 10)
        return max(per_token<child(S, 2), D - 1, Shared>(), per_token_or_scalar<child(S, 3), D - 1, Shared>());
    else if constexpr (c == 11)
        return select(per_token_condition<child(S, 5)>(), per_token<child(S, 2), D - 1, Shared>(),
                      per_token_or_scalar<child(S, 3), D - 1, Shared>());
    else if constexpr (c == 12) {
        // The variance as E[a^2] - E[a]^2: catastrophic cancellation for data of mean 1e4, so
        // the tolerances must scale with how ill-conditioned an output is.
        constexpr auto v = act<child(S, 1), D - 1, Shared>();
        return mean_f(v * v) - mean_f(v) * mean_f(v);
    } else return sum_f(act<child(S, 1), D - 1, Shared>() * per_feature<child(S, 6), D - 1, Shared>());
}

template <std::uint64_t S, int D, class Shared>
constexpr auto per_feature() {
    constexpr unsigned c = D <= 0 ? pick(S, 2) : pick(S, 13);
    if constexpr (c == 0) return g;
    else if constexpr (c == 1) return b;
    else if constexpr (c == 2) {
        if constexpr (pick(child(S, 9), 3) == 0) return max_t(leaf_maximum_operand<child(S, 10)>());
        else return sum_t(act<child(S, 1), D - 1, Shared>());
    } else if constexpr (c == 3) return mean_t(act<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 4) return mean_t(act<child(S, 1), D - 1, Shared>(), m);
    else if constexpr (c == 5)
        return per_feature<child(S, 2), D - 1, Shared>() + per_feature_or_scalar<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 6)
        return per_feature_or_scalar<child(S, 3), D - 1, Shared>() - per_feature<child(S, 2), D - 1, Shared>();
    else if constexpr (c == 7)
        return per_feature<child(S, 2), D - 1, Shared>() * per_feature_or_scalar<child(S, 3), D - 1, Shared>();
    else if constexpr (c == 8)
        return per_feature<child(S, 2), D - 1, Shared>() /
               (constant<1.0> + square(per_feature_or_scalar<child(S, 3), D - 1, Shared>()));
    else if constexpr (c == 9) return safe_unary<child(S, 4)>(per_feature<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 10)
        return max(per_feature_or_scalar<child(S, 3), D - 1, Shared>(), per_feature<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 11)
        return select(per_feature_condition<child(S, 5)>(), per_feature<child(S, 2), D - 1, Shared>(),
                      per_feature_or_scalar<child(S, 3), D - 1, Shared>());
    else return sum_t(act<child(S, 1), D - 1, Shared>() * per_token<child(S, 6), D - 1, Shared>());
}

template <std::uint64_t S, int D, class Shared>
constexpr auto scalar_value() {
    constexpr unsigned c = D <= 0 ? pick(S, 2) : pick(S, 11);
    if constexpr (c == 0) return s;
    else if constexpr (c == 1) return literal_value<child(S, 4)>();
    else if constexpr (c == 2) return sum_f(per_feature<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 3) return mean_f(per_feature<child(S, 1), D - 1, Shared>());
    else if constexpr (c == 4) return sum_t(per_token<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 5) return mean_t(per_token<child(S, 2), D - 1, Shared>());
    else if constexpr (c == 6) return mean_t(per_token<child(S, 2), D - 1, Shared>(), m);
    else if constexpr (c == 7)
        return scalar_value<child(S, 3), D - 1, Shared>() * scalar_value<child(S, 3), D - 1, Shared>() -
               scalar_value<child(S, 5), D - 1, Shared>();
    else if constexpr (c == 8) return safe_unary<child(S, 4)>(scalar_value<child(S, 3), D - 1, Shared>());
    else if constexpr (c == 9)
        return scalar_value<child(S, 3), D - 1, Shared>() /
               (constant<1.0> + square(scalar_value<child(S, 5), D - 1, Shared>()));
    else return max(scalar_value<child(S, 3), D - 1, Shared>(), literal_value<child(S, 4)>());
}

// Half the graphs have a shared Act sub-expression of depth 2 in reach of their leaves.
template <std::uint64_t S>
constexpr auto shared_expression() {
    if constexpr (pick(S, 2) == 0) return no_shared{};
    else return act<child(S, 1), 2, no_shared>();
}

// One attempt at a graph: one output or several (outputs(...)), of every kind, depth 3 to 5
// below the root; half hold a shared Act sub-expression that leaves may pick. Several outputs
// are built from one sub-expression where they can, so that the outputs share nodes.
template <std::uint64_t S>
constexpr auto graph_attempt() {
    constexpr int depth = 3 + static_cast<int>(pick(child(S, 10), 3));
    using Sh = decltype(shared_expression<child(S, 11)>());
    constexpr unsigned shape = pick(S, 12);
    if constexpr (shape < 3) return act<child(S, 1), depth, Sh>();
    else if constexpr (shape == 3) return per_token<child(S, 1), depth, Sh>();
    else if constexpr (shape == 4) return per_feature<child(S, 1), depth, Sh>();
    else if constexpr (shape == 5) return scalar_value<child(S, 1), depth, Sh>();
    else if constexpr (shape == 6)
        return outputs(act<child(S, 1), depth, Sh>(), per_token<child(S, 2), depth - 1, Sh>());
    else if constexpr (shape == 7)
        return outputs(act<child(S, 1), depth, Sh>(), per_feature<child(S, 2), depth - 1, Sh>(),
                       scalar_value<child(S, 3), depth - 2, Sh>());
    else if constexpr (shape == 8 || shape == 9) {
        // Outputs that share a sub-expression h: h itself, a value computed from it, and its
        // statistics over each axis.
        constexpr auto h = act<child(S, 1), depth - 1, Sh>();
        using H = decltype(h);
        return outputs(act<child(S, 2), depth - 1, H>(), h, mean_f(h * h), mean_t(h));
    } else if constexpr (shape == 10)
        return outputs(per_token<child(S, 1), depth, Sh>(), per_feature<child(S, 2), depth, Sh>());
    else {
        // One node as two outputs, and an output that is a bare leaf.
        constexpr auto a = act<child(S, 1), depth, Sh>();
        return outputs(a, random_leaves::x, a);
    }
}

}  // namespace random_graph_detail

// Graphs of min_nodes to max_nodes unique nodes. A kernel's compile time grows faster than its
// node count (at -O3, per element type: about 1 s at 30 nodes, 4 to 8 s at 70), and a graph of
// a node or two says little; so a seed takes the first of its attempts in that range (or its
// 16th attempt, if none of the 15 before is).
inline constexpr std::size_t min_nodes = 5;
inline constexpr std::size_t max_nodes = 32;

// The graph of a seed.
template <std::uint64_t Seed, std::uint64_t Attempt = 0>
constexpr auto random_graph() {
    using namespace random_graph_detail;
    constexpr auto candidate = graph_attempt<child(splitmix64(Seed), static_cast<unsigned>(Attempt))>();
    constexpr std::size_t n = node_count<decltype(candidate)>;
    if constexpr ((n >= min_nodes && n <= max_nodes) || Attempt == 15) return candidate;
    else return random_graph<Seed, Attempt + 1>();
}

// What random graphs are made of, as bits: the suite checks that together they hold every
// primitive, every reduction, every leaf, masked means, shared nodes, several outputs of every
// kind and more than one loop nest.
enum graph_feature : std::uint64_t {
    has_add = 1ULL << 0,
    has_sub = 1ULL << 1,
    has_mul = 1ULL << 2,
    has_div = 1ULL << 3,
    has_neg = 1ULL << 4,
    has_exp = 1ULL << 5,
    has_log = 1ULL << 6,
    has_sqrt = 1ULL << 7,
    has_rsqrt = 1ULL << 8,
    has_tanh = 1ULL << 9,
    has_erf = 1ULL << 10,
    has_max = 1ULL << 11,
    has_greater = 1ULL << 12,
    has_select = 1ULL << 13,
    has_sum_f = 1ULL << 14,
    has_sum_t = 1ULL << 15,
    has_masked_mean = 1ULL << 16,
    has_leaf_x = 1ULL << 17,
    has_leaf_y = 1ULL << 18,
    has_leaf_z = 1ULL << 19,
    has_leaf_p = 1ULL << 20,
    has_leaf_m = 1ULL << 21,
    has_leaf_g = 1ULL << 22,
    has_leaf_b = 1ULL << 23,
    has_leaf_s = 1ULL << 24,
    has_constant = 1ULL << 25,
    has_feature_count = 1ULL << 26,
    has_token_count = 1ULL << 27,
    has_shared_node = 1ULL << 28,
    has_several_outputs = 1ULL << 29,
    has_act_output = 1ULL << 30,
    has_per_token_output = 1ULL << 31,
    has_per_feature_output = 1ULL << 32,
    has_scalar_output = 1ULL << 33,
    has_several_nests = 1ULL << 34,
    has_exp_of_z = 1ULL << 35,
    has_max_f = 1ULL << 36,
    has_max_t = 1ULL << 37,
    all_graph_features = (1ULL << 38) - 1,
};

namespace random_graph_detail {

template <class Op>
constexpr std::uint64_t primitive_feature() {
    if constexpr (std::is_same_v<Op, prim::add>) return has_add;
    else if constexpr (std::is_same_v<Op, prim::sub>) return has_sub;
    else if constexpr (std::is_same_v<Op, prim::mul>) return has_mul;
    else if constexpr (std::is_same_v<Op, prim::div>) return has_div;
    else if constexpr (std::is_same_v<Op, prim::neg>) return has_neg;
    else if constexpr (std::is_same_v<Op, prim::exp>) return has_exp;
    else if constexpr (std::is_same_v<Op, prim::log>) return has_log;
    else if constexpr (std::is_same_v<Op, prim::sqrt>) return has_sqrt;
    else if constexpr (std::is_same_v<Op, prim::rsqrt>) return has_rsqrt;
    else if constexpr (std::is_same_v<Op, prim::tanh>) return has_tanh;
    else if constexpr (std::is_same_v<Op, prim::erf>) return has_erf;
    else if constexpr (std::is_same_v<Op, prim::max>) return has_max;
    else if constexpr (std::is_same_v<Op, prim::greater>) return has_greater;
    else if constexpr (std::is_same_v<Op, prim::select>) return has_select;
    else return 0;  // broadcast: written by autodiff only, never generated
}

template <class Leaf>
constexpr std::uint64_t leaf_feature() {
    constexpr std::string_view name = Leaf::name.view();
    if constexpr (name == "x") return has_leaf_x;
    else if constexpr (name == "y") return has_leaf_y;
    else if constexpr (name == "z") return has_leaf_z;
    else if constexpr (name == "p") return has_leaf_p;
    else if constexpr (name == "m") return has_leaf_m;
    else if constexpr (name == "g") return has_leaf_g;
    else if constexpr (name == "b") return has_leaf_b;
    else return has_leaf_s;
}

template <class E>
struct node_features {
    static constexpr std::uint64_t value = 0;
};
template <leaf_role Role, fixed_string Name, a_kind Kind>
struct node_features<leaf<Role, Name, Kind>> {
    static constexpr std::uint64_t value = leaf_feature<leaf<Role, Name, Kind>>();
};
template <double Value>
struct node_features<literal<Value>> {
    static constexpr std::uint64_t value = has_constant;
};
template <axis Over, fixed_string FeatureAxis>
struct node_features<extent<Over, FeatureAxis>> {
    static constexpr std::uint64_t value = Over == axis::tokens ? has_token_count : has_feature_count;
};
template <axis Over, expression A>
struct node_features<reduction<Over, A>> {
    static constexpr std::uint64_t value = Over == axis::tokens ? has_sum_t : has_sum_f;
};
template <axis Over, expression A>
struct node_features<reduction<Over, A, prim::max_along>> {
    static constexpr std::uint64_t value = Over == axis::tokens ? has_max_t : has_max_f;
};
// sum_t(select(m, a, 0)): the numerator of a masked mean.
template <expression A>
struct node_features<
    reduction<axis::tokens, elementwise<prim::select, std::remove_cv_t<decltype(m)>, A, literal<0.0>>>> {
    static constexpr std::uint64_t value = has_sum_t | has_masked_mean;
};
template <class Op, expression... Args>
struct node_features<elementwise<Op, Args...>> {
    static constexpr std::uint64_t value =
        primitive_feature<Op>() |
        ((std::is_same_v<Op, prim::exp> && ... && std::is_same_v<Args, std::remove_cv_t<decltype(z)>>) ? has_exp_of_z
                                                                                                       : 0);
};

template <class E>
constexpr std::uint64_t output_feature() {
    using K = kind_of<E>;
    if constexpr (K::has_tokens && K::has_features) return has_act_output;
    else if constexpr (K::has_tokens) return has_per_token_output;
    else if constexpr (K::has_features) return has_per_feature_output;
    else return has_scalar_output;
}

template <class G, class... Nodes, class... Roots>
constexpr std::uint64_t features_of(boost::hana::tuple<Nodes...>, boost::hana::tuple<Roots...>) {
    constexpr auto& uses = use_counts<G>;
    std::uint64_t bits =
        (node_features<typename Nodes::type>::value | ... | 0) | (output_feature<typename Roots::type>() | ...);
    const bool atom[] = {
        (is_leaf<typename Nodes::type> || is_literal<typename Nodes::type> || is_extent<typename Nodes::type>)...};
    for (std::size_t i = 0; i < sizeof...(Nodes); ++i)
        if (uses[i] > 1 && !atom[i]) bits |= has_shared_node;
    if (sizeof...(Roots) > 1) bits |= has_several_outputs;
    return bits;
}

// FNV-1a over a graph's structure: operators and their arity, leaves (role, name, kind),
// constants (their bits), extents, reductions (their axis), operands in order. Two graphs have
// equal hashes when they are the same type (up to a 2^-64 collision).
constexpr std::uint64_t mix_in(std::uint64_t h, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    return h;
}
constexpr std::uint64_t mix_in(std::uint64_t h, std::string_view text) {
    for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return mix_in(h, text.size());
}

template <class E>
struct structure_hash;
template <class... Operands>
constexpr std::uint64_t operands_hash(std::uint64_t h, boost::hana::tuple<Operands...>) {
    ((h = mix_in(h, structure_hash<typename Operands::type>::value)), ...);
    return h;
}
template <class E>
struct structure_hash {
    static constexpr std::uint64_t value = [] {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        if constexpr (is_leaf<E>) {
            h = mix_in(mix_in(h, "leaf"), E::name.view());
            h = mix_in(h,
                       static_cast<std::uint64_t>(E::role) * 4 + kind_of<E>::has_tokens * 2 + kind_of<E>::has_features);
            h = mix_in(h, kind_of<E>::feature_axis.view());
        } else if constexpr (is_literal<E>) {
            h = mix_in(mix_in(h, "literal"), std::bit_cast<std::uint64_t>(E::value));
        } else if constexpr (is_extent<E>) {
            h = mix_in(mix_in(mix_in(h, "extent"), static_cast<std::uint64_t>(E::over)), E::feature_axis.view());
        } else if constexpr (is_reduction<E>) {
            h = mix_in(h, E::symbol());
        } else {
            h = mix_in(mix_in(h, E::op::name), static_cast<std::uint64_t>(E::op::arity));
        }
        return operands_hash(h, typename operands_of<E>::type{});
    }();
};

}  // namespace random_graph_detail

// The graph_feature bits of graph (or expression) G.
template <class G>
constexpr std::uint64_t graph_features() {
    using graph_type = as_graph_t<G>;
    std::uint64_t bits = random_graph_detail::features_of<graph_type>(topological_nodes_t<graph_type>{},
                                                                      std::remove_cv_t<decltype(graph_type::roots)>{});
    if (fuse::plan_of<std::remove_cv_t<G>>.loop_nests() > 1) bits |= has_several_nests;
    return bits;
}

// A hash of G's structure over its outputs in order: equal for equal graph types.
template <class G>
constexpr std::uint64_t graph_hash() {
    using namespace random_graph_detail;
    return []<class... Roots>(boost::hana::tuple<Roots...>) {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        ((h = mix_in(h, structure_hash<typename Roots::type>::value)), ...);
        return h;
    }(std::remove_cv_t<decltype(as_graph_t<G>::roots)>{});
}

}  // namespace etna::testing
