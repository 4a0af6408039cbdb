// explain(kernel): the program a kernel runs (fuse/program.hpp) as pseudo-C: nests, loops, what
// each reads and writes; explain(pair): a training pair's saved values and its two programs.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <etna/detail/for_each.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/primitives.hpp>
#include <etna/fuse/plan.hpp>
#include <etna/fuse/program.hpp>
#include <etna/io/formula.hpp>

namespace etna {

namespace detail {

// Everything explain prints about one node, read off its type.
struct node_text {
    std::string name;         // a leaf's name, a literal's value, "T" or "D", or v1, v2, ... for the rest
    std::string_view symbol;  // an elementwise primitive's name
    notation written = notation::call;
    int precedence = 5;
    std::string axis = "D";   // the features it runs over
};

// Every line after the first indented by `by` spaces.
inline std::string indented(std::string_view text, std::size_t by) {
    std::string out;
    for (const char c : text) {
        out += c;
        if (c == '\n') out.append(by, ' ');
    }
    return out;
}

// Joins with a separator (fmt::join's formatter trips GCC 12's -Wstringop-overflow at -O3).
inline std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out.append(separator);
        out.append(parts[i]);
    }
    return out;
}

template <class Nodes>
std::vector<node_text> describe_nodes() {
    std::vector<node_text> texts;
    int next = 0;
    detail::for_each_node<Nodes>([&]<std::size_t I, class E>(std::integral_constant<std::size_t, I>, E*) {
        node_text text;
        if constexpr (kind_of<E>::has_features && !(kind_of<E>::feature_axis == default_feature_axis))
            text.axis = fmt::format("D[{}]", kind_of<E>::feature_axis.view());
        if constexpr (is_leaf<E>) text.name = std::string(E::name.view());
        else if constexpr (is_literal<E>) text.name = fmt::format("{}", E::value);
        else if constexpr (is_extent<E>) text.name = std::string(E::symbol());
        else text.name = fmt::format("v{}", ++next);
        if constexpr (is_elementwise<E>) {
            text.symbol = E::op::name;
            text.written = E::op::written;
            text.precedence = E::op::precedence;
        }
        texts.push_back(std::move(text));
    });
    return texts;
}

}  // namespace detail

// Prints the plan of graph G (fuse/plan.hpp): for each nest, its prologue (per-call values),
// then the loop over tokens with, per token, its loops over features and the per-token values
// between them. In a loop, a per-feature value used once is written where it is used; one used
// more often is named first. Names vN number the computed nodes in topological order.
// In a tiled program (InTile) the nest runs on one tile of tokens, on the tile's thread: its
// sums over tokens are the tile's, which are merged after the tiles.
template <class G, bool InTile = false>
class plan_printer {
    using nodes = topological_nodes_t<G>;
    static constexpr auto& plan = fuse::plan_of<G>;
    static constexpr std::size_t N = std::remove_cvref_t<decltype(plan)>::node_count;
    static constexpr std::size_t O = std::remove_cvref_t<decltype(plan)>::output_count;

public:
    static std::string print() {
        plan_printer printer;
        return printer.text();
    }

private:
    std::vector<detail::node_text> texts_ = detail::describe_nodes<nodes>();
    std::string out_;

    [[nodiscard]] bool source(int i) const { return plan.is_source(i); }

    // How node i reads where it is an operand: an array element, a value, or (if inline) its formula.
    std::string reference(int i, int k, int p, const std::array<int, N>& uses) const {
        const auto& n = plan.info[i];
        if (plan.is_leaf(i)) {
            if (n.tokens && n.features) return texts_[i].name + "[t,j]";
            if (n.tokens) return texts_[i].name + "[t]";
            if (n.features) return texts_[i].name + "[j]";
            return texts_[i].name;
        }
        if (source(i)) return texts_[i].name;
        if (plan.loads_kept(k, i, p)) return fmt::format("row_{}[j]", texts_[i].name);
        if (inlined(i, k, p, uses)) return formula(i, k, p, uses);
        if (n.features && !n.tokens) return texts_[i].name + "[j]";
        return texts_[i].name;
    }

    // Whether loop p of nest k writes Act node i where it is used (used once there, not kept).
    [[nodiscard]] bool inlined(int i, int k, int p, const std::array<int, N>& uses) const {
        const auto& n = plan.info[i];
        return p >= 0 && n.features && n.tokens && uses[i] == 1 && !source(i) && !plan.loads_kept(k, i, p) && plan.kept_at[k][i] != p;
    }

    [[nodiscard]] int strength(int i, const std::array<int, N>& uses, int k, int p) const {
        if (!inlined(i, k, p, uses) || plan.info[i].what != fuse::category::elementwise) return 5;
        return texts_[i].precedence;
    }

    std::string operand(int a, int required, int k, int p, const std::array<int, N>& uses) const {
        const std::string text = reference(a, k, p, uses);
        return strength(a, uses, k, p) < required ? fmt::format("({})", text) : text;
    }

    // The right-hand side computing node i.
    std::string formula(int i, int k, int p, const std::array<int, N>& uses) const {
        const auto& n = plan.info[i];
        const auto& t = texts_[i];
        if (n.what == fuse::category::reduce_features || n.what == fuse::category::reduce_tokens)
            return fmt::format("{}({})", n.symbol, reference(n.operands[0], k, p, uses));
        if (t.written == notation::infix) {
            const int left = t.precedence == prim::greater::precedence ? t.precedence + 1 : t.precedence;
            return fmt::format("{} {} {}", operand(n.operands[0], left, k, p, uses), t.symbol,
                               operand(n.operands[1], t.precedence + 1, k, p, uses));
        }
        if (t.written == notation::prefix) return fmt::format("{}{}", t.symbol, operand(n.operands[0], 5, k, p, uses));
        std::string args;
        for (int j = 0; j < n.operand_count; ++j) args += (j ? ", " : "") + reference(n.operands[j], k, p, uses);
        return fmt::format("{}({})", t.symbol, args);
    }

    // Appends, not fmt's dynamic width nor std::string's operator+: GCC 12 at -O3 warns falsely
    // about both (-Wstringop-overflow, -Wrestrict) in some translation units.
    void line(int indent, std::string_view text) {
        out_.append(static_cast<std::size_t>(indent), ' ');
        out_.append(text);
        out_.push_back('\n');
    }

    [[nodiscard]] std::string kind_of_node(int i) const {
        const auto& n = plan.info[i];
        return n.tokens ? (n.features ? "Act" : "PerToken") : (n.features ? "PerFeature" : "Scalar");
    }

    // The features that loop P of nest K runs over along feature axis A.
    [[nodiscard]] std::string loop_axis(int k, int p, int a) const {
        for (std::size_t i = 0; i < N; ++i)
            if ((plan.element[k][i] & fuse::passes::bit(p)) && plan.axis[i] == a) return texts_[i].axis;
        return "D";
    }

    void prologue(int k) {
        const std::array<int, N> no_uses{};
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            const auto& n = plan.info[i];
            if (n.what == fuse::category::reduce_tokens && plan.nest[i] == k && k > 0 && plan.accumulate_at[k - 1][i] >= 0) {
                if (InTile) continue;  // a tile's sum is its only part
                if (n.features)
                    line(2, fmt::format("for j in [0, {}): {}[j] = {} over threads, in order, of {}.partial[thread][j]",
                                        texts_[i].axis, texts_[i].name, n.combine, texts_[i].name));
                else
                    line(2, fmt::format("{} = {} over threads, in order, of {}.partial[thread]", texts_[i].name, n.combine, texts_[i].name));
            } else if (plan.materialized[i] && plan.nest[i] == k) {
                if (n.features)
                    line(2, fmt::format("for j in [0, {}): {}[j] = {}", texts_[i].axis, texts_[i].name, formula(i, k, -1, no_uses)));
                else
                    line(2, fmt::format("{} = {}", texts_[i].name, formula(i, k, -1, no_uses)));
            }
        }
    }

    void token_values(int k, int p) {
        const std::array<int, N> no_uses{};
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            if (plan.token_at[k][i] != p || plan.is_leaf(i)) continue;
            if (plan.nest[i] < k) line(4, fmt::format("{} = saved_{}[t]", texts_[i].name, texts_[i].name));
            else if (plan.info[i].what != fuse::category::reduce_features)
                line(4, fmt::format("{} = {}", texts_[i].name, formula(i, k, -1, no_uses)));
        }
    }

    // Loop P of nest K along feature axis A (a phase runs one loop per feature axis it has).
    void feature_loop(int k, int p, int a) {
        std::array<int, N> uses{};
        const auto computed = [&](int i) {
            return (plan.element[k][i] & fuse::passes::bit(p)) != 0 && plan.axis[i] == a && !plan.loads_kept(k, i, p);
        };
        const auto accumulated = [&](int i) { return plan.accumulate_at[k][i] == p && plan.axis[plan.info[i].operands[0]] == a; };
        const auto written = [&](std::size_t o) {
            return p + 1 == plan.loops[k] && plan.output_nest[o] == k && plan.is_act(plan.outputs[o]) && plan.axis[plan.outputs[o]] == a;
        };
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            if (computed(i) && !plan.is_leaf(i) && plan.info[i].tokens)
                for (int j = 0; j < plan.info[i].operand_count; ++j) ++uses[plan.info[i].operands[j]];
            if (accumulated(i)) ++uses[plan.info[i].operands[0]];
        }
        for (std::size_t o = 0; o < O; ++o)
            if (written(o)) ++uses[plan.outputs[o]];

        std::vector<std::string> body;
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            if (plan.info[i].what == fuse::category::reduce_features && accumulated(i))
                line(4, fmt::format("{} = {}", texts_[i].name, plan.info[i].identity));
            if (!computed(i) || plan.is_leaf(i) || !plan.info[i].tokens) continue;
            const bool kept = plan.kept_at[k][i] == p;
            if (uses[i] > 1 || kept) body.push_back(fmt::format("{} = {}", texts_[i].name, formula(i, k, p, uses)));
            if (kept) body.push_back(fmt::format("row_{}[j] = {}  // kept for the later loops", texts_[i].name, texts_[i].name));
        }
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            if (!accumulated(i)) continue;
            const std::string value = reference(plan.info[i].operands[0], k, p, uses);
            if (plan.info[i].what == fuse::category::reduce_features) body.push_back(accumulation(i, texts_[i].name, value));
            else body.push_back(accumulation(i, fmt::format("{}{}[j]", texts_[i].name, partial()), value));
        }
        for (std::size_t o = 0; o < O; ++o)
            if (written(o)) body.push_back(fmt::format("out{}[t,j] = {}", o, reference(plan.outputs[o], k, p, uses)));
        line(4, fmt::format("for j in [0, {}):  // loop {}", loop_axis(k, p, a), p));
        for (const auto& statement : body) line(6, statement);
    }

    // Reduction i taking in value: `sum += value`, `max = max(max, value)`.
    [[nodiscard]] std::string accumulation(int i, const std::string& into, const std::string& value) const {
        if (plan.info[i].combine == "sum") return fmt::format("{} += {}", into, value);
        return fmt::format("{} = {}({}, {})", into, plan.info[i].combine, into, value);
    }

    // Where a sum over tokens accumulates: the thread's part, or in a tile the tile's sum.
    static std::string_view partial() { return InTile ? "" : ".partial[thread]"; }

    void after_token(int k) {
        for (std::size_t o = 0; o < O; ++o)
            if (plan.output_nest[o] == k && plan.is_per_token(plan.outputs[o]))
                line(4, fmt::format("out{}[t] = {}", o, texts_[plan.outputs[o]].name + (plan.is_leaf(plan.outputs[o]) ? "[t]" : "")));
        for (std::size_t u = 0; u < N; ++u) {
            const int i = static_cast<int>(u);
            if (plan.saved[i] && plan.nest[i] == k) line(4, fmt::format("saved_{}[t] = {}", texts_[i].name, texts_[i].name));
            if (plan.accumulate_at[k][i] == plan.loops[k] && plan.info[i].what == fuse::category::reduce_tokens) {
                const int a = plan.info[i].operands[0];
                line(4, accumulation(i, fmt::format("{}{}", texts_[i].name, partial()), fmt::format("{}{}", texts_[a].name, plan.is_leaf(a) ? "[t]" : "")));
            }
        }
    }

    // Memory traffic of one token: each Act row read once per nest (its later loops find it in
    // cache: a row of D = 4096 floats is 16 KiB), each output and saved value written once, each
    // PerToken value read once. PerFeature values are read once per call, not per token. Values
    // saved between nests and statistic leaves are doubles whatever the element type.
    [[nodiscard]] std::string traffic() const {
        int rows = 0;     // Act rows of D elements
        int values = 0;   // PerToken elements
        int doubles = 0;  // PerToken doubles
        std::vector<std::string> parts;
        for (int k = 0; k < plan.nests; ++k) {
            if (!plan.token_loop[k]) continue;
            for (std::size_t u = 0; u < N; ++u) {
                const int i = static_cast<int>(u);
                if (!plan.is_leaf(i) || !plan.info[i].tokens) {
                    if (plan.token_at[k][i] >= 0 && plan.nest[i] < k) ++doubles, parts.push_back(fmt::format("reads saved_{}", texts_[i].name));
                    continue;
                }
                if (plan.info[i].features && plan.element[k][i] != 0) ++rows, parts.push_back(fmt::format("reads {} (nest {})", texts_[i].name, k));
                if (!plan.info[i].features && plan.token_at[k][i] >= 0) {
                    ++(plan.info[i].statistic_leaf ? doubles : values);
                    parts.push_back(fmt::format("reads {}", texts_[i].name));
                }
            }
            for (std::size_t o = 0; o < O; ++o) {
                if (plan.output_nest[o] != k || !plan.info[plan.outputs[o]].tokens) continue;
                if (plan.info[plan.outputs[o]].features) ++rows;
                else ++values;
                parts.push_back(fmt::format("writes out{}", o));
            }
            for (std::size_t u = 0; u < N; ++u)
                if (plan.saved[u] && plan.nest[u] == k) ++doubles, parts.push_back(fmt::format("writes saved_{}", texts_[u].name));
        }
        const auto amount = [&](int bytes) {
            std::string total = rows > 0 ? fmt::format("{}D", rows * bytes) : "";
            if (values > 0 || doubles > 0) total += fmt::format("{}{}", rows > 0 ? " + " : "", values * bytes + doubles * 8);
            return total.empty() ? std::string("0") : total;
        };
        // In a tile, the nest's Act rows are mostly tiles in cache, not memory.
        return fmt::format("{} per token: {} bytes in float, {} in double ({})", InTile ? "traffic (tiles included)" : "memory",
                           amount(4), amount(8),
                           parts.empty() ? std::string("nothing") : detail::joined(parts, ", "));
    }

    std::string text() {
        std::vector<std::string> outputs;
        for (std::size_t o = 0; o < O; ++o) outputs.push_back(fmt::format("out{} ({})", o, kind_of_node(plan.outputs[o])));
        std::vector<std::string> loops;
        for (int k = 0; k < plan.nests; ++k)
            if (plan.token_loop[k]) loops.push_back(fmt::format("{}", plan.loops[k]));
        if (loops.empty())
            line(0, fmt::format("kernel: {}; no loop over tokens", detail::joined(outputs, ", ")));
        else
            line(0, fmt::format("kernel: {}; {} loop nest{} over tokens, {} loop{} over features", detail::joined(outputs, ", "),
                                plan.loop_nests(), plan.loop_nests() == 1 ? "" : "s", detail::joined(loops, " + "),
                                loops.size() == 1 && loops[0] == "1" ? "" : "s"));
        for (int k = 0; k < plan.nests; ++k) {
            const std::size_t header = out_.size();
            line(0, fmt::format("nest {}:", k));
            const std::size_t before = out_.size();
            prologue(k);
            if (!plan.token_loop[k]) {
                if (out_.size() == before) out_.resize(header);  // a nest of merges, which a tile has not
                continue;
            }
            line(2, InTile ? "for t in [0, T):  // the tile's tokens" : "parallel for t in [0, T):  // OpenMP, static blocks of tokens");
            for (int p = 0; p <= plan.loops[k]; ++p) {
                token_values(k, p);
                if (p < plan.loops[k])
                    for (int a = 0; a < plan.axes; ++a)
                        if (plan.runs_axis(k, p, a)) feature_loop(k, p, a);
            }
            after_token(k);
        }
        for (std::size_t o = 0; o < O; ++o) {
            const int out = plan.outputs[o];
            if (plan.info[out].tokens) continue;
            const bool per_feature = plan.info[out].features;
            line(0, fmt::format("out{}{} = {}{}", o, per_feature ? "[j]" : "", texts_[out].name, per_feature ? "[j]" : ""));
        }
        line(0, traffic());
        return out_;
    }
};


namespace detail {

// How a GEMM of the tiled plan names node I: a leaf by its name, a matmul by its tile (@k), a
// value a stage's nest computes by that nest's output (sS.J).
template <class Tiling, std::size_t I>
std::string tile_operand() {
    if constexpr (Tiling::info[I].what == fuse::category::leaf) {
        return std::string(Tiling::template node<I>::name.view());
    } else if constexpr (Tiling::info[I].what == fuse::category::matmul) {
        return fmt::format("@{}", Tiling::matmul_rank[I]);
    } else {
        constexpr int s = Tiling::computed_in_stage[I];
        constexpr auto at = Tiling::template stage_outputs<s>();
        return fmt::format("s{}.{}", s, std::find(at.begin(), at.end(), I) - at.begin());
    }
}

template <class Graph, bool InTile = true>
std::string nest_text(std::string_view title, std::size_t indent) {
    if constexpr (std::is_same_v<Graph, void*>) {
        return "";
    } else {
        std::string nest = plan_printer<Graph, InTile>::print();
        nest.pop_back();  // the final newline, which indenting would follow with spaces
        std::string text(indent, ' ');  // appends: see plan_printer::line on GCC 12's false warnings
        text.append(title);
        text.push_back('\n');
        text.append(indent + 2, ' ');
        text.append(indented(nest, indent + 2));
        text.push_back('\n');
        return text;
    }
}

}  // namespace detail

namespace detail {

// The program of a graph with linear layers: its tiles of tokens (tile_tokens each), each stage's nest and GEMMs,
// the last nest, and what is merged and computed after the tiles.
template <class P>
std::string tiled_program_text(std::size_t tile_tokens) {
    using tiling = typename P::tiling;
    using table = typename tiling::table;
    std::vector<std::string> outputs;
    for (std::size_t o = 0; o < table::output_count; ++o) {
        const auto& n = table::info[static_cast<std::size_t>(table::outputs[o])];
        const std::string_view kind = n.weight ? "Weight" : n.tokens ? (n.features ? "Act" : "PerToken") : (n.features ? "PerFeature" : "Scalar");
        outputs.push_back(fmt::format("out{} ({})", o, kind));
    }
    std::string out = fmt::format("kernel with linear layers: {}; tiles of {} tokens, {} stage{} of GEMMs\n",
                                  detail::joined(outputs, ", "), tile_tokens, tiling::stages, tiling::stages == 1 ? "" : "s");
    out += "parallel for each tile of tokens:  // OpenMP, static blocks of tiles; T below is the tile's tokens\n";
    detail::repeat(std::make_index_sequence<tiling::stages>{}, [&]<std::size_t S>(std::integral_constant<std::size_t, S>) {
        out += fmt::format("  stage {}:\n", S);
        out += detail::nest_text<typename P::template stage_graph<static_cast<int>(S)>>(
            fmt::format("nest writing tiles s{}.0, s{}.1, ... (its out0, out1, ...):", S, S), 4);
        detail::repeat(std::make_index_sequence<tiling::size>{}, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            if constexpr (tiling::is_contraction_at(I) && tiling::stage_of(I) == static_cast<int>(S)) {
                using E = typename tiling::template node<I>;
                constexpr auto a = static_cast<std::size_t>(table::info[I].operands[0]);
                constexpr auto b = static_cast<std::size_t>(table::info[I].operands[1]);
                if constexpr (table::info[I].what == fuse::category::matmul)
                    out += fmt::format("    GEMM @{} = {} @ {}{}  // tile of {}\n", tiling::matmul_rank[I], detail::tile_operand<tiling, a>(),
                                       detail::tile_operand<tiling, b>(), table::info[I].transposed ? "ᵀ" : "", kind_name<kind_of<E>>());
                else
                    out += fmt::format("    GEMM {}.partial[thread] += {}ᵀ @ {}  // {}, summed over the tiles\n",
                                       fmt::format("v{}", I), detail::tile_operand<tiling, a>(), detail::tile_operand<tiling, b>(),
                                       kind_name<kind_of<E>>());
            }
        });
    });
    out += detail::nest_text<typename P::last_graph>("last nest (the outputs per token, then each tile's sums over tokens):", 2);
    std::string merges;
    detail::repeat(std::make_index_sequence<table::output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
        constexpr auto i = static_cast<std::size_t>(table::outputs[O]);
        if constexpr (tiling::is_weight_output(O))
            merges += fmt::format("  out{} = sum over threads, in order, of v{}.partial[thread]\n", O, i);
        else if constexpr (tiling::is_sum_output(O))
            merges += fmt::format("  out{} = sum over threads, in order, of each thread's tiles' sums (added in tile order)\n", O);
    });
    if (!merges.empty()) out += "after the tiles:\n" + merges;
    std::vector<std::string> whole_outputs;
    for (std::size_t o = 0; o < table::output_count; ++o)
        if (tiling::is_whole_output(o)) whole_outputs.push_back(fmt::format("out{}", o));
    out += detail::nest_text<typename P::whole_graph, false>(
        fmt::format("from the merged sums (@sumK), {} (its out0, out1, ...):", detail::joined(whole_outputs, ", ")), 2);
    return out;
}

}  // namespace detail

// The program a kernel runs (fuse/program.hpp), as text: explain(compile(y)).
template <class K>
    requires requires { typename K::program; }
std::string explain(const K& k) {
    using P = typename K::program;
    if constexpr (P::tiled) return detail::tiled_program_text<P>(k.tile_tokens());
    else return plan_printer<typename P::graph>::print();
}

// A training pair: what its forward saves (the planner's choice, fuse/recompute.hpp), then the
// plans of its forward and its backward.
template <class P>
    requires requires { typename P::saving_type; }
std::string explain(const P& pair) {
    using saving = typename P::saving_type;
    constexpr std::size_t acts = [] {
        std::size_t n = 0;
        detail::repeat(std::make_index_sequence<saving::count>{}, [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
            using saved = kind_of<typename saving::template node<K>>;
            n += saved::has_tokens && saved::has_features;
        });
        return n;
    }();
    constexpr std::size_t statistics = saving::count - acts;
    std::string out = fmt::format("training pair: the forward saves {} statistic{} (in double)", statistics, statistics == 1 ? "" : "s");
    if constexpr (acts > 0)
        out += fmt::format(" and {} matmul result{} (in the element type: recomputing one is a GEMM)", acts, acts == 1 ? "" : "s");
    out += fmt::format(" for the backward, which recomputes every {}Act value it reads\n", acts > 0 ? "other " : "");
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((out += fmt::format("  {} ({}) = {}\n", saving::template leaf<K>::name.view(),
                             kind_name<kind_of<typename saving::template node<K>>>(),
                             detail::indented(fmt::format("{}", typename saving::template node<K>{}), 4))),
         ...);
    }(std::make_index_sequence<saving::count>{});
    std::vector<std::string> written;
    for (std::size_t k = 0; k < saving::count; ++k) written.push_back(fmt::format("out{} = saved{}", P::output_count + k, k));
    out += written.empty() ? "forward " : fmt::format("forward ({}) ", detail::joined(written, ", "));
    out += explain(pair.forward_kernel());
    out += "backward ";
    out += explain(pair.backward_kernel());
    return out;
}

}  // namespace etna
