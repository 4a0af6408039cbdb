// nest_runner: runs a program of loop nests over tokens (fuse/plan.hpp) on the CPU, OpenMP over
// tokens and tiles of features, no dispatch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <fmt/format.h>

#include <etna/cpu/into.hpp>
#include <etna/cpu/stream.hpp>
#include <etna/cpu/threads.hpp>
#include <etna/cpu/vector_math.hpp>
#include <etna/cpu/workspace.hpp>
#include <etna/detail/for_each.hpp>
#include <etna/expr/graph.hpp>
#include <etna/fuse/plan.hpp>
#include <etna/fuse/program.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna::cpu {

// Features per tile: each node of a phase is one loop over a tile, which the compiler turns
// into vector instructions (16 floats: two AVX2 registers). A feature reduction keeps one
// accumulator per lane, so 16 independent sums run side by side.
inline constexpr std::size_t tile_width = 16;

// A tile's lanes combined by reduction Op (a sum, a max) in a fixed pairwise order: the result
// of a feature reduction does not depend on how the compiler vectorizes.
template <class Op>
statistic combine_lanes(const statistic* lanes) {
    statistic level[tile_width];
    for (std::size_t l = 0; l < tile_width; ++l) level[l] = lanes[l];
    for (std::size_t width = tile_width / 2; width > 0; width /= 2)
        for (std::size_t l = 0; l < width; ++l) level[l] = Op::combine(level[l], level[l + width]);
    return level[0];
}

// A row of `width` values padded to whole cache lines, so that per-thread rows (partial sums,
// kept values) of different threads never share a line.
template <class T = statistic>
constexpr std::size_t padded(std::size_t width) {
    constexpr std::size_t per_line = 64 / sizeof(T);
    return (width + per_line - 1) / per_line * per_line;
}

// Runs the program of graph G, which has no contractions: its nests one after the other, each
// a loop over tokens split among the threads, with the per-thread partials of sums over tokens
// merged in thread order between them. The kernel (cpu/kernel.hpp) has checked the call's
// bindings and the buffers' element types. A statistic output may be written into a double
// buffer; statistic leaves are read from double data.
template <class G>
class nest_runner {
    using nodes = topological_nodes_t<G>;
    using roots = std::remove_cv_t<decltype(as_graph_t<G>::roots)>;
    static constexpr std::size_t N = node_count<G>;
    static constexpr std::size_t W = tile_width;

public:
    static constexpr auto plan = fuse::program<G>::plan;
    static constexpr std::size_t output_count = std::remove_cvref_t<decltype(plan)>::output_count;

    // Threads for the loops over tokens. The same inputs and thread count give bitwise the same
    // outputs; another thread count may round sums over tokens differently.
    void set_threads(int threads) { threads_ = threads; }
    [[nodiscard]] int threads() const noexcept { return threads_; }

    // Runs the program on the bound data (of sizes extents) into buffers, output i into the i-th.
    template <element T, class... Views, class... Bindings>
    void run(const sizes& extents, const std::tuple<Views...>& buffers, const Bindings&... bindings) {
        output_views<T> outputs;
        [&]<std::size_t... O>(std::index_sequence<O...>) {
            (outputs.take(std::integral_constant<std::size_t, O>{}, std::get<O>(buffers)), ...);
        }(std::make_index_sequence<output_count>{});
        run_nests<T>(extents, outputs, bindings...);
    }

private:
    using stat = statistic;

    // The buffers of a call: each output's in the element type, or in double for a statistic.
    template <element T>
    struct output_views {
        std::array<view<T>, output_count> element_buffers{};
        std::array<view<stat>, output_count> double_buffers{};
        std::array<bool, output_count> in_double{};

        template <std::size_t O, class V>
        void take(std::integral_constant<std::size_t, O>, view<V> buffer) {
            if constexpr (std::is_same_v<V, T>) {
                element_buffers[O] = buffer;
            } else {
                double_buffers[O] = buffer;
                in_double[O] = true;
            }
        }
        // Calls f with output o's buffer, whichever type it holds.
        template <class F>
        void with(std::size_t o, F&& f) const {
            if (in_double[o]) f(double_buffers[o]);
            else f(element_buffers[o]);
        }
        [[nodiscard]] std::size_t cols(std::size_t o) const { return in_double[o] ? double_buffers[o].cols() : element_buffers[o].cols(); }
        template <class V>
        void write(std::size_t o, std::size_t r, std::size_t col, V value) const {
            if (in_double[o]) double_buffers[o](r, col) = static_cast<stat>(value);
            else element_buffers[o](r, col) = static_cast<T>(value);
        }
    };

    template <std::size_t I>
    using output_kind = kind_of<typename std::remove_cvref_t<decltype(roots{}[boost::hana::size_c<I>])>::type>;

    // Everything one call needs, shared by the nests.
    template <element T>
    struct call {
        std::array<view<const T>, N> leaves{};         // bound arrays, by node
        std::array<view<const stat>, N> statistics{};  // bound arrays of statistic leaves, by node
        std::array<stat, N> uniform{};                 // Scalar values, by node
        output_views<T> outputs{};
        std::array<std::size_t, N> width{};     // the features of each node (1 without features)
        std::size_t tokens = 0;
        workspace<N>* work = nullptr;
        int threads_used = 1;
        bool streaming = false;  // Act outputs written with non-temporal stores (cpu/stream.hpp)
    };

    // A statistic: a value computed from a sum that is not an Act value, or a statistic leaf; held
    // in double.
    static constexpr bool is_statistic(int i) {
        return plan.info[i].statistic_leaf || (!plan.is_source(i) && !plan.is_act(i));
    }

    // Element (r, col) of leaf I's bound array.
    template <int I, element T>
    static stat leaf_value(const call<T>& c, std::size_t r, std::size_t col) {
        if constexpr (plan.info[I].statistic_leaf) return c.statistics[I](r, col);
        else return c.leaves[I](r, col);
    }

    // An Act node is computed in the element type; a statistic operand enters it rounded, which
    // costs one rounding in a product or a quotient. In a sum or a difference it enters as the
    // sum of two element-type values (high + low), so that x - mean(x) of float data with mean
    // 1e4 and std 1e-2 is still rounded once: x - high is exact there (Sterbenz).
    // The operand (0 or 1) of Act node I that is split so, or -1.
    template <int I, element T>
    static constexpr int split_operand() {
        if constexpr (std::is_same_v<T, stat>) return -1;
        else {
            using op = typename node_at<I>::op;
            if (!std::is_same_v<op, prim::add> && !std::is_same_v<op, prim::sub>) return -1;
            for (int k = 0; k < 2; ++k)
                if (is_statistic(plan.info[I].operands[k])) return k;
            return -1;
        }
    }

    template <int I>
    using node_at = typename std::remove_cvref_t<decltype(boost::hana::at_c<static_cast<std::size_t>(I)>(nodes{}))>::type;

    // Roles of node i in nest K.
    template <std::size_t K>
    static constexpr bool merged_at(int i) {  // a sum over tokens whose partials merge before nest K
        if constexpr (K == 0) return false;
        else return plan.info[i].what == fuse::category::reduce_tokens && plan.nest[i] == int(K) && plan.accumulate_at[K - 1][i] >= 0;
    }
    template <std::size_t K>
    static constexpr bool summed_over_tokens_in(int i) {
        return plan.accumulate_at[K][i] >= 0 && plan.info[i].what == fuse::category::reduce_tokens;
    }
    template <std::size_t K>
    static constexpr bool summed_per_token_in(int i) {  // a sum over tokens of a PerToken value
        return plan.accumulate_at[K][i] == plan.loops[K] && plan.info[i].what == fuse::category::reduce_tokens;
    }
    template <std::size_t K>
    static constexpr bool saved_in(int i) { return plan.saved[i] && plan.nest[i] == int(K); }
    template <std::size_t K>
    static constexpr bool kept_in(int i) { return plan.kept_at[K][i] >= 0; }

    // Calls f.template operator()<I>() for each node I of List, in order: code is generated for
    // the nodes a site involves only.
    template <fuse::node_list<N> List, class F>
    static void visit(F&& f) {
        [&]<std::size_t... J>(std::index_sequence<J...>) {
            (f.template operator()<List.at[J]>(), ...);
        }(std::make_index_sequence<List.size>{});
    }

    template <element T, class... Bindings>
    void run_nests(const sizes& extents, const output_views<T>& outputs, const Bindings&... bindings) {
        call<T> c;
        c.outputs = outputs;
        c.work = &work_;
        bool has_tokens = false;
        detail::for_each_node<nodes>([&]<std::size_t I, class E>(std::integral_constant<std::size_t, I>, E*) {
            using K = kind_of<E>;
            c.width[I] = extents.cols<K>();
            has_tokens = has_tokens || K::has_tokens;
            constexpr fuse::category what = plan.info[I].what;
            if constexpr (what == fuse::category::leaf) {
                const auto values = binding_for<E>(bindings...).values();
                if constexpr (std::is_same_v<K, Scalar>) c.uniform[I] = static_cast<stat>(values(0, 0));
                else if constexpr (plan.info[I].statistic_leaf) c.statistics[I] = values;
                else c.leaves[I] = values;
            } else if constexpr (what == fuse::category::literal) {
                c.uniform[I] = E::value;
            } else if constexpr (what == fuse::category::extent) {
                c.uniform[I] = static_cast<stat>(E::over == axis::tokens ? extents.tokens() : extents.features(E::feature_axis.view()));
            }
        });
        if (has_tokens) c.tokens = extents.tokens();
        check_outputs(c, extents);
        std::size_t act_output_bytes = 0;
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            if constexpr (plan.is_act(plan.outputs[O])) act_output_bytes += c.outputs.element_buffers[O].size() * sizeof(T);
        });
        c.streaming = act_output_bytes > last_level_cache_bytes();

        detail::repeat(std::make_index_sequence<plan.nests>{}, [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
            prologue<K>(c);
            if constexpr (plan.token_loop[K]) token_loop<K>(c);
        });
        write_whole_outputs(c);
    }

    // Output shapes, and overlaps: an output may share memory with an input only when it is
    // exactly that input's view and the plan reads the input no more after writing the output.
    template <element T>
    void check_outputs(const call<T>& c, const sizes& extents) const {
        std::array<std::string_view, N> names{};
        visit<plan.where([](int i) { return plan.is_leaf(i); })>([&]<int I>() { names[I] = node_at<I>::name.view(); });
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            c.outputs.with(O, [&](const auto& out) { check_output<O>(c, extents, names, out); });
        });
    }

    template <std::size_t O, element T, class V>
    void check_output(const call<T>& c, const sizes& extents, const std::array<std::string_view, N>& names,
                      const view<V>& out) const {
        check_output_shape<output_kind<O>>(O, out, extents.rows<output_kind<O>>(), extents.cols<output_kind<O>>());
        for (std::size_t i = 0; i < N; ++i) {
            if (!plan.is_leaf(static_cast<int>(i))) continue;
            bool overlaps = false;
            bool same = false;
            const auto compare = [&](const auto& leaf) {
                overlaps = overlap(out, leaf);
                same = same_window(out, leaf);
            };
            if (plan.info[i].statistic_leaf) compare(c.statistics[i]);
            else compare(c.leaves[i]);
            if (!overlaps) continue;
            if (!same)
                throw error(fmt::format("etna: output {} partly overlaps leaf '{}'; an output may overwrite an input "
                                        "only as exactly the same view",
                                        O, names[i]));
            if (!plan.in_place[O][i])
                throw error(fmt::format("etna: output {} overwrites leaf '{}', which this kernel reads after writing "
                                        "output {}; give the output a buffer of its own",
                                        O, names[i], O));
        }
        for (std::size_t other = 0; other < O; ++other)
            c.outputs.with(other, [&](const auto& earlier) {
                if (overlap(out, earlier)) throw error(fmt::format("etna: outputs {} and {} overlap", other, O));
            });
    }

    // The value of PerFeature or Scalar node A at feature j, outside the token loop.
    template <int A, element T>
    static stat whole_value(const call<T>& c, std::size_t j) {
        if constexpr (!plan.info[A].features) return c.uniform[A];
        else if constexpr (plan.is_leaf(A)) return leaf_value<A>(c, 0, j);
        else return c.work->buffers[A](0, j);
    }

    // Primitive Op of node I computed in type C, its operands read by value<A>() (in float, by
    // glibc's vector functions where it has them: cpu/vector_math.hpp).
    template <class Op, int I, class C, class Value>
    static C apply(const Value& value) {
        constexpr auto& n = plan.info[I];
        const auto operand = [&]<int A>() { return static_cast<C>(value.template operator()<A>()); };
        const auto op = [](auto... operands) {
            if constexpr (std::is_same_v<C, float>) return float_form<Op>::apply(operands...);
            else return Op::template apply<C>(operands...);
        };
        if constexpr (n.operand_count == 1) return op(operand.template operator()<n.operands[0]>());
        else if constexpr (n.operand_count == 2)
            return op(operand.template operator()<n.operands[0]>(), operand.template operator()<n.operands[1]>());
        else
            return op(operand.template operator()<n.operands[0]>(), operand.template operator()<n.operands[1]>(),
                      operand.template operator()<n.operands[2]>());
    }

    // Before nest K's token loop: merge the per-thread partials of the sums over tokens that
    // become available here, in thread order, then compute the PerFeature and Scalar values of
    // nest K, in topological order.
    template <std::size_t K, element T>
    void prologue(call<T>& c) {
        auto& work = *c.work;
        visit<plan.where([](int i) { return merged_at<K>(i) || (plan.materialized[i] && plan.nest[i] == int(K)); })>([&]<int I>() {
            using E = node_at<I>;
            if constexpr (merged_at<K>(I)) {
                using Op = typename E::op;
                const tensor<stat>& partials = work.partials[I];
                if constexpr (plan.info[I].features) {
                    workspace<N>::fit(work.buffers[I], 1, c.width[I]);
                    for (std::size_t j = 0; j < c.width[I]; ++j) {
                        stat sum = partials(0, j);
                        for (int thread = 1; thread < c.threads_used; ++thread) sum = Op::combine(sum, partials(thread, j));
                        work.buffers[I](0, j) = sum;
                    }
                } else {
                    stat sum = partials(0, 0);
                    for (int thread = 1; thread < c.threads_used; ++thread) sum = Op::combine(sum, partials(thread, 0));
                    c.uniform[I] = sum;
                }
            } else {
                if constexpr (plan.info[I].what == fuse::category::reduce_features) {
                    using Op = typename E::op;
                    constexpr int a = plan.info[I].operands[0];
                    stat sum = Op::template identity<stat>();
                    for (std::size_t j = 0; j < c.width[a]; ++j) sum = Op::combine(sum, whole_value<a>(c, j));
                    c.uniform[I] = sum;
                } else if constexpr (plan.info[I].features) {
                    workspace<N>::fit(work.buffers[I], 1, c.width[I]);
                    for (std::size_t j = 0; j < c.width[I]; ++j)
                        work.buffers[I](0, j) = apply<typename E::op, I, stat>([&]<int A>() { return whole_value<A>(c, j); });
                } else {
                    c.uniform[I] = apply<typename E::op, I, stat>([&]<int A>() { return whole_value<A>(c, 0); });
                }
            }
        });
    }

    template <std::size_t K, element T>
    void token_loop(call<T>& c) {
        auto& work = *c.work;
        visit<plan.where([](int i) { return summed_over_tokens_in<K>(i) || saved_in<K>(i) || kept_in<K>(i); })>([&]<int I>() {
            if constexpr (summed_over_tokens_in<K>(I)) {
                workspace<N>::fit(work.partials[I], static_cast<std::size_t>(threads_), padded(c.width[I]));
                std::fill_n(work.partials[I].data(), work.partials[I].size(), node_at<I>::op::template identity<stat>());
            }
            if constexpr (saved_in<K>(I)) workspace<N>::fit(work.saved[I], c.tokens, 1);
            if constexpr (kept_in<K>(I))
                workspace<N>::fit(work.template kept_rows<T>()[I], static_cast<std::size_t>(threads_),
                                       padded<T>(c.width[I]));
        });
        const auto count = static_cast<std::ptrdiff_t>(c.tokens);
        int used = 1;
#pragma omp parallel num_threads(threads_)
        {
#ifdef _OPENMP
            const int thread = omp_get_thread_num();
#pragma omp single
            used = omp_get_num_threads();
#else
            const int thread = 0;
#endif
#pragma omp for schedule(static)
            for (std::ptrdiff_t t = 0; t < count; ++t) token<K>(c, static_cast<std::size_t>(t), thread);
            if (c.streaming) stream_fence();
        }
        c.threads_used = used;
    }

    // Where the tiles of one token read and write: row pointers, Scalar values and the streaming
    // flag, looked up once per token into a local that no store of a tile can reach. Looked up
    // in the call instead, they were reloaded for every tile: a tile writes through memcpy or
    // streaming stores, which GCC must assume may write anywhere the call is.
    template <element T>
    struct token_rows {
        const T* leaf[N];                  // Act and PerFeature leaves
        const stat* statistic[N];          // statistic leaves and PerFeature statistics
        T* kept[N];                        // this thread's kept rows
        stat* partial[N];                  // this thread's partial sums over tokens
        T* output[output_count > 0 ? output_count : 1];  // Act outputs of the nest
        stat uniform[N];
        bool streaming;
    };

    // Fills rows for token t of nest K: the entries its tiles read, and only those.
    template <std::size_t K, element T>
    static void look_up(const call<T>& c, std::size_t t, int thread, token_rows<T>& rows) {
        const auto row = static_cast<std::size_t>(thread);
        visit<plan.where([](int i) {
            return plan.element[K][i] != 0 || plan.accumulate_at[K][i] >= 0 || !(plan.info[i].tokens || plan.info[i].features);
        })>([&]<int I>() {
            if constexpr (!(plan.info[I].tokens || plan.info[I].features)) rows.uniform[I] = c.uniform[I];
            else if constexpr (plan.info[I].statistic_leaf) rows.statistic[I] = c.statistics[I].row(0);
            else if constexpr (plan.is_leaf(I)) rows.leaf[I] = c.leaves[I].row(plan.info[I].tokens ? t : 0);
            else if constexpr (!plan.info[I].tokens) rows.statistic[I] = c.work->buffers[I].data();
            if constexpr (plan.kept_at[K][I] >= 0) rows.kept[I] = c.work->template kept_rows<T>()[I].row(row);
            if constexpr (summed_over_tokens_in<K>(I) && plan.info[I].features) rows.partial[I] = c.work->partials[I].row(row);
        });
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            if constexpr (plan.output_nest[O] == int(K) && plan.is_act(plan.outputs[O]))
                rows.output[O] = c.outputs.element_buffers[O].row(t);
        });
        rows.streaming = c.streaming;
    }

    // One token of nest K: its phases, each a loop over tiles of its features, and its
    // PerToken values between them. Flattened: every tile and lambda inlined into it, which GCC
    // stops doing by itself in a translation unit with many kernels (a tile became a call).
    template <std::size_t K, element T>
    [[gnu::flatten]] static void token(call<T>& c, std::size_t t, int thread) {
        stat values[N]{};                // this token's PerToken values
        alignas(64) stat sums[N][W];     // lanes of the feature reductions of the current loop
        token_rows<T> rows;
        look_up<K>(c, t, thread, rows);
        detail::repeat(std::make_index_sequence<plan.loops[K] + 1>{}, [&]<std::size_t P>(std::integral_constant<std::size_t, P>) {
            token_values<K, P>(c, t, values, sums);
            if constexpr (P < plan.loops[K]) {
                visit<plan.where([](int i) {
                    return plan.info[i].what == fuse::category::reduce_features && plan.accumulate_at[K][i] == int(P);
                })>([&]<int I>() {
                    for (std::size_t l = 0; l < W; ++l) sums[I][l] = node_at<I>::op::template identity<stat>();
                });
                // One loop per feature axis of the phase (d and ff in a block's backward).
                detail::repeat(std::make_index_sequence<plan.axes>{}, [&]<std::size_t A>(std::integral_constant<std::size_t, A>) {
                    if constexpr (plan.runs_axis(K, P, A)) {
                        const std::size_t features = loop_width<K, P, A>(c);
                        std::size_t j = 0;
                        for (; j + W <= features; j += W) tile<K, P, A, true>(rows, j, W, values, sums);
                        if (j < features) tile<K, P, A, false>(rows, j, features - j, values, sums);
                    }
                });
            }
        });
        finish_token<K>(c, t, thread, values);
    }

    // The features loop P of nest K runs over along feature axis A: those of its nodes on A.
    template <std::size_t K, std::size_t P, std::size_t A, element T>
    static std::size_t loop_width(const call<T>& c) {
        std::size_t width = 0;
        for (std::size_t i = 0; i < N; ++i)
            if ((plan.element[K][i] & fuse::passes::bit(P)) && plan.axis[i] == int(A)) width = c.width[i];
        return width;
    }

    // PerToken values that become available before loop P (P == loops: after the last loop).
    template <std::size_t K, std::size_t P, element T>
    static void token_values(const call<T>& c, std::size_t t, stat* values, stat (*sums)[W]) {
        visit<plan.where([](int i) { return plan.token_at[K][i] == int(P); })>([&]<int I>() {
            using E = node_at<I>;
            {
                if constexpr (plan.is_leaf(I)) values[I] = leaf_value<I>(c, t, 0);
                else if constexpr (plan.nest[I] < int(K)) values[I] = c.work->saved[I](t, 0);
                else if constexpr (plan.info[I].what == fuse::category::reduce_features)
                    values[I] = combine_lanes<typename E::op>(sums[I]);
                else
                    values[I] = apply<typename E::op, I, stat>([&]<int A>() {
                        if constexpr (plan.info[A].tokens) return values[A];
                        else return c.uniform[A];
                    });
            }
        });
    }

// Every tile slot a loop reads was written earlier in the same tile, by the node the plan
// computes there first (fuse/plan.hpp's demand pass); GCC 12 cannot prove it through the loops
// and lambdas and warns. Zeroing the tiles to quiet it would cost a store per slot per tile.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
    // Loop P of nest K over features j .. j + n - 1 of token t: every node of the loop as one
    // short loop over the tile (loads, then arithmetic, then accumulations, then stores, so
    // that an output may overwrite the input it is computed from). The loops marked [vectorized]
    // must compile to vector instructions; tests/cpu/vectorization.cmake checks that they do (the
    // copies of a tile in and out compile to memcpy, which is vectorized in its own way).
    template <std::size_t K, std::size_t P, std::size_t Axis, bool Full, element T>
    static void tile(const token_rows<T>& rows, std::size_t j, std::size_t count, const stat* values, stat (*sums)[W]) {
        const std::size_t n = Full ? W : count;
        alignas(64) T tiles[N][W];      // Act values and PerFeature leaves
        alignas(64) stat stats[N][W];   // PerFeature statistics
        visit<plan.where([](int i) { return (plan.element[K][i] & fuse::passes::bit(P)) != 0 && plan.axis[i] == int(Axis); })>([&]<int I>() {
            using E = node_at<I>;
            {
                if constexpr (plan.info[I].statistic_leaf) {
                    const stat* in = rows.statistic[I] + j;
                    for (std::size_t l = 0; l < n; ++l) stats[I][l] = in[l];
                } else if constexpr (plan.is_leaf(I)) {
                    const T* in = rows.leaf[I] + j;
                    for (std::size_t l = 0; l < n; ++l) tiles[I][l] = in[l];
                } else if constexpr (!plan.info[I].tokens) {
                    const stat* in = rows.statistic[I] + j;
                    for (std::size_t l = 0; l < n; ++l) stats[I][l] = in[l];
                } else if constexpr (plan.loads_kept(K, I, P)) {
                    const T* in = rows.kept[I] + j;
                    for (std::size_t l = 0; l < n; ++l) tiles[I][l] = in[l];
                } else {
                    // GCC reports the `omp simd` loop below at its first read of an operand: the
                    // line of tiles[A][l] stands for that loop in tests/cpu/vectorization.cmake.
                    const auto operand = [&]<int A>(std::size_t l) {
                        if constexpr (is_statistic(A) && plan.info[A].features) return stats[A][l];
                        else if constexpr (plan.info[A].features) return tiles[A][l];  // [vectorized]
                        else if constexpr (plan.info[A].tokens) return values[A];
                        else return rows.uniform[A];
                    };
                    if constexpr (constexpr int s = split_operand<I, T>(); s >= 0) {
                        constexpr int a = plan.info[I].operands[0], b = plan.info[I].operands[1];
                        for (std::size_t l = 0; l < n; ++l) {  // [vectorized]
                            const stat wide = operand.template operator()<s == 0 ? a : b>(l);
                            const T high = static_cast<T>(wide);
                            const T low = static_cast<T>(wide - static_cast<stat>(high));
                            const T other = static_cast<T>(operand.template operator()<s == 0 ? b : a>(l));
                            if constexpr (std::is_same_v<typename E::op, prim::add>) tiles[I][l] = (other + high) + low;
                            else if constexpr (s == 1) tiles[I][l] = (other - high) - low;
                            else tiles[I][l] = (high - other) + low;
                        }
                    } else {
                        // omp simd: the lanes are independent, which GCC cannot always see by itself
                        // (a select it turned into a branch around a division: float erf's clamp).
#pragma omp simd
                        for (std::size_t l = 0; l < n; ++l)
                            tiles[I][l] = apply<typename E::op, I, T>([&]<int A>() { return operand.template operator()<A>(l); });
                    }
                    if constexpr (plan.kept_at[K][I] == int(P)) {
                        T* out = rows.kept[I] + j;
                        for (std::size_t l = 0; l < n; ++l) out[l] = tiles[I][l];
                    }
                }
            }
        });
        visit<plan.where([](int i) {
            return plan.accumulate_at[K][i] == int(P) && plan.axis[plan.info[i].operands[0]] == int(Axis);
        })>([&]<int I>() {
            {
                using Op = typename node_at<I>::op;
                const T* in = tiles[plan.info[I].operands[0]];
                if constexpr (plan.info[I].what == fuse::category::reduce_features) {
#pragma omp simd
                    for (std::size_t l = 0; l < n; ++l) sums[I][l] = Op::combine(sums[I][l], stat(in[l]));  // [vectorized]
                } else {
                    stat* partial = rows.partial[I] + j;
#pragma omp simd
                    for (std::size_t l = 0; l < n; ++l) partial[l] = Op::combine(partial[l], stat(in[l]));  // [vectorized]
                }
            }
        });
        if constexpr (P + 1 == plan.loops[K]) {
            detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
                constexpr int out = plan.outputs[O];
                if constexpr (plan.output_nest[O] == int(K) && plan.is_act(out) && plan.axis[out] == int(Axis)) {
                    T* row = rows.output[O] + j;
                    if (Full && rows.streaming && streamable(row, sizeof tiles[out])) stream_copy(row, tiles[out], W);
                    else for (std::size_t l = 0; l < n; ++l) row[l] = tiles[out][l];  // a copy: GCC emits memcpy
                }
            });
        }
    }

#pragma GCC diagnostic pop

    // After a token's last loop: its PerToken outputs and saved values, and its contributions to
    // sums over tokens of PerToken values.
    template <std::size_t K, element T>
    static void finish_token(call<T>& c, std::size_t t, int thread, const stat* values) {
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            constexpr int out = plan.outputs[O];
            if constexpr (plan.output_nest[O] == int(K) && plan.is_per_token(out)) c.outputs.write(O, t, 0, values[out]);
        });
        visit<plan.where([](int i) { return saved_in<K>(i) || summed_per_token_in<K>(i); })>([&]<int I>() {
            if constexpr (saved_in<K>(I)) c.work->saved[I](t, 0) = values[I];
            if constexpr (summed_per_token_in<K>(I)) {
                stat& partial = c.work->partials[I](static_cast<std::size_t>(thread), 0);
                partial = node_at<I>::op::combine(partial, values[plan.info[I].operands[0]]);
            }
        });
    }

    // Outputs without a token axis, once every nest has run.
    template <element T>
    void write_whole_outputs(call<T>& c) const {
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            constexpr int out = plan.outputs[O];
            if constexpr (!plan.info[out].tokens)
                for (std::size_t j = 0; j < c.outputs.cols(O); ++j) c.outputs.write(O, 0, j, whole_value<out>(c, j));
        });
    }

    int threads_ = default_threads();
    workspace<N> work_;
};

}  // namespace etna::cpu
