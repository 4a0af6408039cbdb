// tiles: the plan of a graph with contractions (linear layers), as stages over tiles of tokens.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/extent.hpp>
#include <etna/fuse/graph_table.hpp>

namespace etna::fuse {

// A contraction needs the whole row of its operand before any element of its result, and a GEMM
// is fast only on many rows at once: so tokens are taken in tiles (a few dozen rows that stay in
// cache), and each tile is computed in stages. Stage s first runs one fused nest (fuse/plan.hpp)
// that computes, into tiles, the operands of the contractions whose operands need s contractions
// before them; then it runs those contractions as GEMMs on the tiles: matmul into a tile of its
// own, outer_sum accumulated into a per-thread sum. A last nest computes the outputs from the
// tiles. Inside every nest a matmul's result is a leaf (its tile, tile_leaf_t), so the nests
// recompute nothing a GEMM computed and no Act value between them goes to memory.
//
// Sums over tokens are linear in the tiles: the last nest writes each tile's sums, the tiles'
// sums are added per thread, and the threads' in a fixed order. An output without a token axis
// that is computed from such sums (2 * sum_t(a)) is computed once after the tiles, by the
// `whole` graph, in which the sums are statistic leaves bound to the merged sums.

// The tile of the graph's K-th matmul, as a leaf of the nests that read it.
template <std::size_t K, class Node>
using tile_leaf_t = leaf<leaf_role::input, numbered<"@", K>(), kind_of<Node>>;

// The sum over tokens K of the last nest, as a leaf of the whole graph.
template <std::size_t K, class Node>
using token_sum_leaf_t = leaf<leaf_role::statistic, numbered<"@sum", K>(), kind_of<Node>>;

namespace detail {

// The number that follows `prefix` in a generated leaf's name, or -1 if the name is not such.
template <class L, fixed_string Prefix>
consteval long generated_number() {
    if constexpr (!is_leaf<L>) {
        return -1;
    } else {
        const auto name = L::name.view();
        const auto prefix = Prefix.view();
        if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return -1;
        long number = 0;
        for (const char c : name.substr(prefix.size())) {
            if (c < '0' || c > '9') return -1;
            number = number * 10 + (c - '0');
        }
        return number;
    }
}

}  // namespace detail

template <class L>
inline constexpr bool is_tile_leaf = detail::generated_number<L, "@">() >= 0;
template <class L>
inline constexpr std::size_t tile_number = static_cast<std::size_t>(detail::generated_number<L, "@">());
template <class L>
inline constexpr bool is_token_sum_leaf = detail::generated_number<L, "@sum">() >= 0;

namespace diagnostic {

template <class Output>
struct weight_output_not_an_outer_sum {
    static_assert(always_false<Output>,
                  "etna: a graph with linear layers may output a weight only as outer_sum(a, b) (a weight's gradient); "
                  "the output is the type in 'weight_output_not_an_outer_sum<...>' above");
};

}  // namespace diagnostic

template <class G>
struct tiling {
    using table = graph_table<G>;
    using nodes = typename table::nodes;
    static constexpr std::size_t size = table::size;
    static constexpr auto& info = table::info;

    static constexpr bool is_contraction_at(std::size_t i) {
        return info[i].what == category::matmul || info[i].what == category::outer_sum;
    }

    // How many contractions the longest path from the leaves to node i (i included) passes.
    static consteval std::array<int, size> depths() {
        std::array<int, size> depth{};
        for (std::size_t i = 0; i < size; ++i) {
            int below = 0;
            for (int k = 0; k < info[i].operand_count; ++k) below = std::max(below, depth[static_cast<std::size_t>(info[i].operands[k])]);
            depth[i] = below + (is_contraction_at(i) ? 1 : 0);
        }
        return depth;
    }
    static constexpr auto depth = depths();

    // The stage of contraction i: the contractions before it.
    static constexpr int stage_of(std::size_t i) { return depth[i] - 1; }
    static consteval int count_stages() {
        int n = 0;
        for (std::size_t i = 0; i < size; ++i)
            if (is_contraction_at(i)) n = std::max(n, stage_of(i) + 1);
        return n;
    }
    static constexpr int stages = count_stages();

    // Rank of each matmul among the matmuls, in topological order (-1 for other nodes).
    static consteval std::array<int, size> matmul_ranks() {
        std::array<int, size> rank{};
        int next = 0;
        for (std::size_t i = 0; i < size; ++i) rank[i] = info[i].what == category::matmul ? next++ : -1;
        return rank;
    }
    static constexpr auto matmul_rank = matmul_ranks();

    // The stage whose nest computes node i: the first that has a contraction reading it, unless
    // it is a leaf or a matmul (whose tile a GEMM fills). -1: none. Its tile lasts to the end
    // of the token tile, so a later stage reads it there.
    static consteval std::array<int, size> computing_stages() {
        std::array<int, size> stage{};
        stage.fill(-1);
        for (std::size_t c = 0; c < size; ++c) {
            if (!is_contraction_at(c)) continue;
            for (int k = 0; k < info[c].operand_count; ++k) {
                const auto a = static_cast<std::size_t>(info[c].operands[k]);
                const bool computed = info[a].what != category::leaf && info[a].what != category::matmul;
                if (computed && (stage[a] < 0 || stage_of(c) < stage[a])) stage[a] = stage_of(c);
            }
        }
        return stage;
    }
    static constexpr auto computed_in_stage = computing_stages();

    // Positions of the nodes that stage s computes, in topological order: its nest's outputs.
    template <int S>
    static consteval auto stage_outputs() {
        constexpr auto count = [] {
            std::size_t n = 0;
            for (std::size_t i = 0; i < size; ++i) n += computed_in_stage[i] == S;
            return n;
        }();
        std::array<std::size_t, count> at{};
        std::size_t next = 0;
        for (std::size_t i = 0; i < size; ++i)
            if (computed_in_stage[i] == S) at[next++] = i;
        return at;
    }

    // The outputs: with a token axis (written by the last nest, tile by tile), weights (the
    // outer_sums, summed over the tiles by GEMMs: a weight output of another node is refused,
    // diagnostic::weight_output_not_an_outer_sum), and the rest (after the tiles).
    static constexpr bool is_output_with_tokens(std::size_t o) { return info[static_cast<std::size_t>(table::outputs[o])].tokens; }
    static constexpr bool is_weight_output(std::size_t o) { return info[static_cast<std::size_t>(table::outputs[o])].weight; }
    // A sum over tokens that is an output itself: the merged sums are written to it directly.
    static constexpr bool is_sum_output(std::size_t o) {
        return info[static_cast<std::size_t>(table::outputs[o])].what == category::reduce_tokens;
    }
    static constexpr bool is_whole_output(std::size_t o) {
        return !is_output_with_tokens(o) && !is_weight_output(o) && !is_sum_output(o);
    }

    // The sums over tokens that the outputs without a token axis (but weights) read, in
    // topological order; each is a PerFeature or Scalar output of the last nest.
    static consteval std::array<bool, size> token_sums_needed() {
        std::array<bool, size> needed{};
        std::array<bool, size> reached{};
        for (std::size_t o = 0; o < table::output_count; ++o)
            if (!is_output_with_tokens(o) && !is_weight_output(o)) reached[static_cast<std::size_t>(table::outputs[o])] = true;
        // Walking down from those outputs, the first sum over tokens on each path.
        for (std::size_t i = size; i-- > 0;) {
            if (!reached[i]) continue;
            if (info[i].what == category::reduce_tokens) {
                needed[i] = true;
                continue;
            }
            for (int k = 0; k < info[i].operand_count; ++k) reached[static_cast<std::size_t>(info[i].operands[k])] = true;
        }
        return needed;
    }
    static constexpr auto token_sum = token_sums_needed();
    static consteval std::array<int, size> token_sum_ranks() {
        std::array<int, size> rank{};
        int next = 0;
        for (std::size_t i = 0; i < size; ++i) rank[i] = token_sum[i] ? next++ : -1;
        return rank;
    }
    static constexpr auto token_sum_rank = token_sum_ranks();

    // What tiles cannot run, which compile() refuses (cpu/kernel.hpp): a matmul by a computed
    // weight (the GEMMs multiply by bound weights, packed once per call), and a sum over tokens
    // that feeds a value per token (it would need every tile before any).
    static consteval bool multiplies_by_leaves() {
        for (std::size_t i = 0; i < size; ++i)
            if (info[i].what == category::matmul && info[static_cast<std::size_t>(info[i].operands[1])].what != category::leaf)
                return false;
        return true;
    }
    static consteval bool token_sums_reach_no_token() {
        for (std::size_t i = 0; i < size; ++i) {
            if (info[i].what != category::reduce_tokens || token_sum[i]) continue;
            bool is_output = false;
            for (std::size_t o = 0; o < table::output_count; ++o) is_output = is_output || table::outputs[o] == static_cast<int>(i);
            if (!is_output) return false;
        }
        return true;
    }

    template <std::size_t I>
    using node = typename decltype(+nodes{}[boost::hana::size_c<I>])::type;
};

// The node whose sum over tokens token-sum leaf L stands for.
template <class Tiling, class L>
inline constexpr std::size_t token_sum_node = [] {
    std::size_t i = 0;
    while (Tiling::token_sum_rank[i] != detail::generated_number<L, "@sum">()) ++i;
    return i;
}();

// E as a nest of the tiled plan reads it: every matmul replaced by its tile.
template <class Tiling, class E>
constexpr auto cut(E e) {
    constexpr std::size_t i = index_in<E>(typename Tiling::nodes{});
    if constexpr (is_matmul<E>) {
        return tile_leaf_t<static_cast<std::size_t>(Tiling::matmul_rank[i]), E>{};
    } else {
        return map_operands(e, [](auto operand) { return cut<Tiling>(operand); });
    }
}

// E as the whole graph reads it: every needed sum over tokens replaced by its leaf.
template <class Tiling, class E>
constexpr auto after_tiles(E e) {
    constexpr std::size_t i = index_in<E>(typename Tiling::nodes{});
    if constexpr (i < Tiling::size && Tiling::token_sum[i]) {
        return token_sum_leaf_t<static_cast<std::size_t>(Tiling::token_sum_rank[i]), E>{};
    } else {
        return map_operands(e, [](auto operand) { return after_tiles<Tiling>(operand); });
    }
}

// Positions of nodes, the first `count` of `at`.
template <std::size_t N>
struct positions {
    std::array<std::size_t, N> at{};
    std::size_t count = 0;
    constexpr void add(std::size_t i) { at[count++] = i; }
};

// outputs(rewrite(node)...) of the nodes at the positions P, or void* for none.
template <class Tiling, auto P, class Rewrite>
constexpr auto graph_of(Rewrite rewrite) {
    if constexpr (P.count == 0) return static_cast<void*>(nullptr);
    else
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
            return outputs(rewrite(typename Tiling::template node<P.at[K]>{})...);
        }(std::make_index_sequence<P.count>{});
}

// The graphs of a tiled plan (void* where there is none). Stage S's nest computes the values
// its contractions read.
template <class Tiling, int S>
constexpr auto stage_graph() {
    constexpr auto computed = [] {
        positions<Tiling::size> p;
        for (const std::size_t i : Tiling::template stage_outputs<S>()) p.add(i);
        return p;
    }();
    return graph_of<Tiling, computed>([](auto e) { return cut<Tiling>(e); });
}

// The last nest: the outputs with a token axis, then the sums over tokens the whole graph reads.
template <class Tiling>
constexpr auto last_graph() {
    using table = typename Tiling::table;
    constexpr auto with_tokens = [] {
        positions<table::output_count + Tiling::size> p;
        for (std::size_t o = 0; o < table::output_count; ++o)
            if (Tiling::is_output_with_tokens(o)) p.add(static_cast<std::size_t>(table::outputs[o]));
        for (std::size_t i = 0; i < Tiling::size; ++i)
            if (Tiling::token_sum[i]) p.add(i);
        return p;
    }();
    return graph_of<Tiling, with_tokens>([](auto e) { return cut<Tiling>(e); });
}

// The whole graph: the outputs without a token axis computed from the merged sums over tokens.
template <class Tiling>
constexpr auto whole_graph() {
    using table = typename Tiling::table;
    constexpr auto rest = [] {
        positions<table::output_count> p;
        for (std::size_t o = 0; o < table::output_count; ++o)
            if (Tiling::is_whole_output(o)) p.add(static_cast<std::size_t>(table::outputs[o]));
        return p;
    }();
    return graph_of<Tiling, rest>([](auto e) { return after_tiles<Tiling>(e); });
}

}  // namespace etna::fuse
