// plan: the compile-time schedule of a graph as loop nests over tokens and phases over features.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <string_view>

#include <etna/fuse/graph_table.hpp>

namespace etna::fuse {

// A value is *available* at (nest, phase): from the start of that nest, and within a token from
// the start of that phase (a loop over the token's features). A sum over features of a value
// available at phase p is available at phase p + 1 of the same nest; a sum over tokens of a value
// available in nest n is available in nest n + 1. So a new phase starts only after a reduction
// over features whose value is needed, and a new nest only after a reduction over tokens.
//
// Within a nest, PerToken values needed by a later nest are *saved* (O(T) memory) and Act values
// are *recomputed* wherever they are needed (O(T x D) memory is never written but for outputs),
// unless recomputing one costs at least keep_cost per element and it is needed in several
// loops of a nest: then the first of them *keeps* it in a per-thread row buffer (D elements,
// in cache) from which the later loops load it.
// PerFeature and Scalar values that are not leaves are *materialized* once, in the prologue of
// the nest where they become available (a sum over tokens: when its per-thread partials merge).
//
// Act outputs are written in the last phase of their nest, after every read of that token's row,
// so an output may overwrite an input that no later nest reads (an in-place residual update).

// Recomputing an Act value that costs at least this many adds per element (one transcendental,
// expr/primitives.hpp) is slower than storing it once into a row in cache and loading it again.
inline constexpr int keep_cost = 20;

// Positions of nodes, chosen from a plan: a constant that code generation iterates over, so
// that it instantiates code for the nodes involved only (measured: iterating all nodes and
// discarding with if constexpr made each kernel's compile time grow with node count x sites).
template <std::size_t N>
struct node_list {
    std::array<int, N> at{};
    std::size_t size = 0;
    constexpr void add(int i) { at[size++] = i; }
};

template <std::size_t N, std::size_t O>
struct plan {
    static constexpr std::size_t node_count = N;
    static constexpr std::size_t output_count = O;
    static constexpr std::size_t max_nests = N + 1;  // one more than the sums over tokens, at most

    std::array<node_info, N> info{};
    std::array<int, O> outputs{};

    // Pass 0: the feature axes, numbered in order of appearance; a loop over a token's features
    // (a phase) runs once per feature axis of its nodes (d and ff in a block's backward).
    std::array<int, N> axis{};  // -1 without features
    int axes = 0;

    // Pass 1: where each value becomes available.
    std::array<int, N> nest{};
    int nests = 0;

    // Pass 2: what each nest does, per token t (loops: the phases over features).
    std::array<bool, max_nests> token_loop{};
    std::array<int, max_nests> loops{};
    // Bit p set: the node's value is computed (or loaded) per feature in loop p of the nest.
    std::array<std::array<unsigned, N>, max_nests> element{};
    // A PerToken value's computation (or load) before loop p of the nest; p == loops: after the
    // last loop; -1: not used in the nest.
    std::array<std::array<int, N>, max_nests> token_at{};
    // A reduction's accumulation in the nest: in loop p, or (a sum over tokens of a PerToken
    // value) p == loops, once per token after the last loop; -1: not accumulated in the nest.
    std::array<std::array<int, N>, max_nests> accumulate_at{};
    // An Act value that loop p of the nest computes and keeps in a row buffer, which the later
    // loops of the nest that need it load; -1: recomputed wherever it is needed.
    std::array<std::array<int, N>, max_nests> kept_at{};
    std::array<bool, N> materialized{};  // computed once per call, in the prologue of nest[i]
    std::array<bool, N> saved{};         // a PerToken value stored per token, read by later nests
    std::array<int, O> output_nest{};    // where each output is written

    // Pass 3: output o may exactly overwrite leaf i (the same memory), reading it no more after.
    std::array<std::array<bool, N>, O> in_place{};

    // The nodes for which pred(i) holds, in topological order.
    template <class Pred>
    [[nodiscard]] constexpr node_list<N> where(Pred pred) const {
        node_list<N> list;
        for (std::size_t i = 0; i < N; ++i)
            if (pred(static_cast<int>(i))) list.add(static_cast<int>(i));
        return list;
    }

    [[nodiscard]] constexpr int loop_nests() const {
        return static_cast<int>(std::count(token_loop.begin(), token_loop.begin() + nests, true));
    }
    [[nodiscard]] constexpr bool is_leaf(int i) const { return info[i].what == category::leaf; }
    [[nodiscard]] constexpr bool is_source(int i) const {
        return info[i].what == category::leaf || info[i].what == category::literal || info[i].what == category::extent;
    }
    [[nodiscard]] constexpr bool is_act(int i) const { return info[i].tokens && info[i].features; }
    [[nodiscard]] constexpr bool is_per_token(int i) const { return info[i].tokens && !info[i].features; }
    // Whether phase p of nest k has a node over feature axis a (it then runs a loop over a).
    [[nodiscard]] constexpr bool runs_axis(int k, int p, int a) const {
        for (std::size_t i = 0; i < N; ++i)
            if ((element[k][i] >> p & 1u) != 0 && axis[i] == a) return true;
        return false;
    }
    // Whether loop p of nest k loads Act node i from the row an earlier loop of the nest kept it in.
    [[nodiscard]] constexpr bool loads_kept(int k, int i, int p) const { return kept_at[k][i] >= 0 && p > kept_at[k][i]; }
};

namespace passes {

constexpr unsigned bit(int phase) { return 1u << phase; }

// Pass 0: the number of each node's feature axis.
template <std::size_t N, std::size_t O>
constexpr void feature_axes(plan<N, O>& p) {
    std::array<std::string_view, N> names{};
    for (std::size_t i = 0; i < N; ++i) {
        p.axis[i] = -1;
        if (!p.info[i].features) continue;
        int a = 0;
        while (a < p.axes && names[static_cast<std::size_t>(a)] != p.info[i].feature_axis) ++a;
        if (a == p.axes) names[static_cast<std::size_t>(p.axes++)] = p.info[i].feature_axis;
        p.axis[i] = a;
    }
}

// Pass 1: the nest in which each node's value becomes available.
template <std::size_t N, std::size_t O>
constexpr void availability(plan<N, O>& p) {
    for (std::size_t i = 0; i < N; ++i) {
        const node_info& n = p.info[i];
        int at = 0;
        for (int k = 0; k < n.operand_count; ++k) at = std::max(at, p.nest[n.operands[k]]);
        p.nest[i] = n.what == category::reduce_tokens ? at + 1 : at;
    }
    for (const int o : p.outputs) p.nests = std::max(p.nests, p.nest[o] + 1);
    for (std::size_t o = 0; o < O; ++o) p.output_nest[o] = p.nest[p.outputs[o]];
}

// The phase of nest k from which node i is available within a token (0 for values that do not
// vary per token, and for PerToken values of earlier nests, which are loaded).
template <std::size_t N, std::size_t O>
constexpr std::array<int, N> phases_in(const plan<N, O>& p, int k) {
    std::array<int, N> phase{};
    for (std::size_t i = 0; i < N; ++i) {
        const node_info& n = p.info[i];
        if (!n.tokens || p.is_source(static_cast<int>(i)) || (p.nest[i] < k && !p.is_act(static_cast<int>(i)))) {
            phase[i] = 0;
            continue;
        }
        int at = 0;
        for (int j = 0; j < n.operand_count; ++j) at = std::max(at, phase[n.operands[j]]);
        phase[i] = n.what == category::reduce_features ? at + 1 : at;
    }
    return phase;
}

// A PerFeature or Scalar value needed anywhere: computed in the prologue of its nest, and so
// are the values it is computed from; a sum over tokens needed is accumulated by an earlier nest.
template <std::size_t N, std::size_t O>
constexpr void need_materialized(plan<N, O>& p, std::array<bool, N>& needed, int i) {
    if (needed[i]) return;
    needed[i] = true;
    if (p.is_source(i) || p.info[i].what == category::reduce_tokens) return;
    p.materialized[i] = true;
    for (int j = 0; j < p.info[i].operand_count; ++j) need_materialized(p, needed, p.info[i].operands[j]);
}

// What recomputing each Act node in a later loop of nest k costs per element: its primitive's
// cost plus its computed Act operands' (a shared operand counts once per use; an operand kept in
// a row costs a load, nothing), capped at keep_cost.
template <std::size_t N, std::size_t O>
constexpr std::array<int, N> recompute_costs(const plan<N, O>& p, int k) {
    std::array<int, N> cost{};
    for (std::size_t i = 0; i < N; ++i) {
        const node_info& n = p.info[i];
        if (!p.is_act(static_cast<int>(i)) || p.is_source(static_cast<int>(i))) continue;
        int sum = n.cost;
        for (int j = 0; j < n.operand_count; ++j)
            if (p.kept_at[k][n.operands[j]] < 0) sum += cost[n.operands[j]];
        cost[i] = std::min(sum, keep_cost);
    }
    return cost;
}

// Pass 2, for nest k: from its roots backwards, what is computed where. `needed` collects the
// PerFeature and Scalar values, and sums over tokens, needed at all; cost is recompute_costs'.
template <std::size_t N, std::size_t O>
constexpr void demand_in(plan<N, O>& p, int k, std::array<bool, N>& needed, const std::array<int, N>& cost) {
    const auto phase = phases_in(p, k);
    auto& element = p.element[k];
    auto& token_at = p.token_at[k];
    auto& accumulate_at = p.accumulate_at[k];
    auto& kept_at = p.kept_at[k];
    element.fill(0);
    token_at.fill(-1);
    accumulate_at.fill(-1);
    kept_at.fill(-1);
    std::array<bool, N> token_needed{};

    // The roots of nest k and the last loop they need.
    int last = -1;
    for (std::size_t o = 0; o < O; ++o) {
        const int out = p.outputs[o];
        if (p.nest[out] != k || !p.info[out].tokens) continue;
        if (p.info[out].features) last = std::max(last, phase[out]);
        else token_needed[out] = true, last = std::max(last, phase[out] - 1);
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (p.saved[i] && p.nest[i] == k) token_needed[i] = true, last = std::max(last, phase[i] - 1);
        if (p.info[i].what == category::reduce_tokens && needed[i] && p.nest[i] == k + 1) {
            const int a = p.info[i].operands[0];
            if (p.info[a].features) last = std::max(last, phase[a]);
            else token_needed[a] = true, last = std::max(last, phase[a] - 1);
        }
    }
    p.loops[k] = last + 1;
    for (std::size_t i = 0; i < N; ++i) {
        if (p.info[i].what == category::reduce_tokens && needed[i] && p.nest[i] == k + 1) {
            const int a = p.info[i].operands[0];
            if (p.info[a].features) accumulate_at[i] = phase[a], element[a] |= bit(phase[a]);
            else accumulate_at[i] = p.loops[k];
        }
    }
    for (std::size_t o = 0; o < O; ++o) {
        const int out = p.outputs[o];
        if (p.nest[out] == k && p.is_act(out)) element[out] |= bit(last);
    }

    // Operands before users: walking backwards, every need is seen before the node is.
    for (int i = static_cast<int>(N) - 1; i >= 0; --i) {
        const node_info& n = p.info[i];
        if (element[i] != 0 && !p.is_leaf(i)) {
            if (!n.tokens) {
                need_materialized(p, needed, i);  // a PerFeature value: loaded from its buffer
            } else {
                // Every user is seen: element[i] is final. A value kept by its first loop
                // needs its operands there only.
                unsigned operands_in = element[i];
                if (std::popcount(element[i]) > 1 && cost[i] >= keep_cost) {
                    kept_at[i] = std::countr_zero(element[i]);
                    operands_in = bit(kept_at[i]);
                }
                for (int j = 0; j < n.operand_count; ++j) {
                    const int a = n.operands[j];
                    if (p.info[a].features) element[a] |= operands_in;
                    else if (p.info[a].tokens) token_needed[a] = true;
                    else need_materialized(p, needed, a);
                }
            }
        }
        if (token_needed[i]) {
            token_at[i] = phase[i];
            if (p.is_leaf(i)) continue;
            if (p.nest[i] < k) {
                p.saved[i] = true;  // computed by its own nest, processed after this one
                continue;
            }
            if (n.what == category::reduce_features) {
                const int a = n.operands[0];
                accumulate_at[i] = phase[a];
                element[a] |= bit(phase[a]);
                continue;
            }
            for (int j = 0; j < n.operand_count; ++j) {
                const int a = n.operands[j];
                if (p.info[a].tokens) token_needed[a] = true;
                else need_materialized(p, needed, a);
            }
        }
    }
    bool work = false;
    for (std::size_t i = 0; i < N; ++i) work = work || element[i] != 0 || token_at[i] >= 0 || accumulate_at[i] >= 0;
    p.token_loop[k] = work;
}

// Pass 2: nest by nest from the last, what is computed where. What a nest keeps in rows changes
// what its kept values cost to recompute (an operand kept is a load): the nest is planned again
// with the costs of the previous round until the kept values settle (at most three rounds; each
// round is a complete plan of the nest, and only the place of Act computations differs).
template <std::size_t N, std::size_t O>
constexpr void demand(plan<N, O>& p) {
    std::array<bool, N> needed{};
    for (std::size_t o = 0; o < O; ++o)
        if (!p.info[p.outputs[o]].tokens) need_materialized(p, needed, p.outputs[o]);
    for (int k = p.nests - 1; k >= 0; --k) {
        p.kept_at[k].fill(-1);
        for (int round = 0; round < 3; ++round) {
            const auto kept_before = p.kept_at[k];
            demand_in(p, k, needed, recompute_costs(p, k));
            if (p.kept_at[k] == kept_before) break;
        }
    }
}

// Pass 3: which inputs each output may overwrite in place: an Act or PerToken leaf of the
// output's kind that no nest after the output's reads.
template <std::size_t N, std::size_t O>
constexpr void in_place(plan<N, O>& p) {
    for (std::size_t o = 0; o < O; ++o) {
        const int out = p.outputs[o];
        const int written = p.output_nest[o];
        for (std::size_t i = 0; i < N; ++i) {
            const node_info& n = p.info[i];
            if (!p.is_leaf(static_cast<int>(i)) || !n.tokens || n.tokens != p.info[out].tokens ||
                n.features != p.info[out].features)
                continue;
            bool read_later = false;
            for (int k = written + 1; k < p.nests; ++k) read_later = read_later || p.element[k][i] != 0 || p.token_at[k][i] >= 0;
            p.in_place[o][i] = !read_later;
        }
    }
}

}  // namespace passes

// The plan of graph G: the passes, in order.
template <class G>
consteval auto make_plan() {
    using table = graph_table<G>;
    plan<table::size, table::output_count> p;
    p.info = table::info;
    p.outputs = table::outputs;
    passes::feature_axes(p);
    passes::availability(p);
    passes::demand(p);
    passes::in_place(p);
    return p;
}

template <class G>
inline constexpr auto plan_of = make_plan<G>();

}  // namespace etna::fuse
