// tile_runner: runs the program of a graph with contractions (fuse/tiles.hpp) on the CPU: tiles
// of tokens, each through the stages' nests and GEMMs.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <boost/hana/for_each.hpp>
#include <fmt/format.h>

#include <etna/cpu/gemm.hpp>
#include <etna/cpu/into.hpp>
#include <etna/cpu/nest_runner.hpp>
#include <etna/cpu/workspace.hpp>
#include <etna/detail/for_each.hpp>
#include <etna/expr/graph.hpp>
#include <etna/fuse/program.hpp>
#include <etna/fuse/tiles.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna::cpu {

// Tokens per tile: the tiles of a stage (a few rows of d and ff values) stay in the L2 cache,
// and each GEMM still multiplies enough rows to reuse every packed weight panel it loads.
inline constexpr std::size_t default_tile_tokens = 64;

// A nest's runner, or nothing where the program has no such nest.
struct no_nest {
    void set_threads(int) {}
};
template <class Graph>
using nest_of = std::conditional_t<std::is_same_v<Graph, void*>, no_nest, nest_runner<Graph>>;

// Stands in for the tile runner of a graph that compile() refuses (cpu/kernel.hpp), so that the
// refusal is the only error.
template <class G>
struct refused_runner {
    static constexpr std::size_t output_count = fuse::program<G>::tiling::table::output_count;
    void set_threads(int) {}
    [[nodiscard]] int threads() const noexcept { return 1; }
    void set_tile_tokens(std::size_t) {}
    [[nodiscard]] std::size_t tile_tokens() const noexcept { return default_tile_tokens; }
    template <element T, class... Views, class... Bindings>
    void run(const sizes&, const std::tuple<Views...>&, const Bindings&...) {}
};

// Runs the program of graph G, which has contractions. Weights are packed once per call for
// the GEMMs; every thread owns its tiles, and the tiles of one thread are computed in token
// order, so the same inputs and thread count give bitwise the same outputs. The kernel
// (cpu/kernel.hpp) has checked the call's bindings and the buffers' element types.
template <class G>
class tile_runner {
    using program = fuse::program<G>;
    using tiling = typename program::tiling;
    template <int S>
    using stage_graph = typename program::template stage_graph<S>;
    using last_graph = typename program::last_graph;
    using whole_graph = typename program::whole_graph;
    using table = typename tiling::table;
    using nodes = typename tiling::nodes;
    static constexpr std::size_t N = tiling::size;
    static constexpr int stage_count = tiling::stages;

    template <std::size_t I>
    using node_at = typename tiling::template node<I>;
    static constexpr auto& info = table::info;

    static constexpr std::size_t matmul_count = [] {
        std::size_t n = 0;
        for (const int r : tiling::matmul_rank) n += r >= 0;
        return n;
    }();
    // The node of the K-th matmul.
    static constexpr auto matmul_node_of = [] {
        std::array<std::size_t, matmul_count + 1> at{};
        for (std::size_t i = 0; i < N; ++i)
            if (tiling::matmul_rank[i] >= 0) at[static_cast<std::size_t>(tiling::matmul_rank[i])] = i;
        return at;
    }();

public:
    static constexpr std::size_t output_count = table::output_count;

    tile_runner() { check_weight_outputs(); }

    void set_threads(int threads) { threads_ = threads; }
    [[nodiscard]] int threads() const noexcept { return threads_; }
    void set_tile_tokens(std::size_t tokens) { tile_tokens_ = tokens; }
    [[nodiscard]] std::size_t tile_tokens() const noexcept { return tile_tokens_; }

    // Runs the program on the bound data (of sizes extents) into buffers, output i into the i-th.
    template <element T, class... Views, class... Bindings>
    void run(const sizes& extents, const std::tuple<Views...>& buffers, const Bindings&... bindings) {
        check_outputs(extents, buffers, bindings...);
        run_tiles<T>(extents, buffers, bindings...);
    }

private:
    template <std::size_t I>
    using output_node = node_at<static_cast<std::size_t>(table::outputs[I])>;
    template <std::size_t I>
    using output_kind = kind_of<output_node<I>>;

    // A weight output that is not a weight's gradient, named at compile time.
    static constexpr void check_weight_outputs() {
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            using K = output_kind<O>;
            if constexpr (is_weight<K> && info[table::outputs[O]].what != fuse::category::outer_sum)
                (void)sizeof(fuse::diagnostic::weight_output_not_an_outer_sum<output_node<O>>);
        });
    }

    // Every buffer has its output's shape; one that shares memory with a bound array must be
    // exactly that array (an in-place update of rows, which the last nest of a tile makes after
    // every read of them), and outputs without a token axis share none.
    template <class Views, class... Bindings>
    void check_outputs(const sizes& extents, const Views& views, const Bindings&... bindings) const {
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            const auto& out = std::get<O>(views);
            check_output_shape<output_kind<O>>(O, out, extents.rows<output_kind<O>>(), extents.cols<output_kind<O>>());
            const auto check = [&]<class B>(const B& bound) {
                const auto values = bound.values();
                if (!overlap(out, values)) return;
                if (!same_window(out, values) || !output_kind<O>::has_tokens)
                    throw error(fmt::format("etna: output {} overlaps leaf '{}'; a kernel with linear layers may overwrite "
                                            "an input only in place (exactly the same view) with an output per token",
                                            O, B::leaf_type::name.view()));
            };
            (check(bindings), ...);
            detail::repeat(std::make_index_sequence<O>{}, [&]<std::size_t P>(std::integral_constant<std::size_t, P>) {
                if (overlap(out, std::get<P>(views))) throw error(fmt::format("etna: outputs {} and {} overlap", P, O));
            });
        });
    }

    // Per-thread state: the nests' kernels (each single-threaded), the tiles, the partial sums.
    struct thread_state {
        decltype([]<int... S>(std::integer_sequence<int, S...>) {
            return std::tuple<nest_of<stage_graph<S>>...>{};
        }(std::make_integer_sequence<int, stage_count>{})) stages;
        nest_of<last_graph> last;
        std::tuple<std::array<tensor<float>, N>, std::array<tensor<double>, N>> tiles;        // by node, tile x width
        std::tuple<std::array<tensor<float>, N>, std::array<tensor<double>, N>> weight_sums;  // by outer_sum node
        std::array<tensor<double>, N> token_sums;       // this thread's sums over tokens, by node
        std::array<tensor<double>, N> tile_token_sums;  // one tile's
        std::exception_ptr failure;

        template <class T>
        std::array<tensor<T>, N>& tile() { return std::get<std::array<tensor<T>, N>>(tiles); }
        template <class T>
        std::array<tensor<T>, N>& weight_sum() { return std::get<std::array<tensor<T>, N>>(weight_sums); }
    };

    // Runs a nest of the program into buffers (into(...)), reading the bindings of its leaves.
    template <class Nest, class Buffers, class... Bound>
    static void run_nest(nest_runner<Nest>& nest, const Buffers& buffers, const Bound&... bound) {
        nest.template run<typename bound_element<Bound...>::type>(sizes_of_bindings<Nest>(bound...), buffers.views, bound...);
    }

    // The data of node I for rows [first, first + count) of a call: a bound leaf's rows, or a tile.
    template <std::size_t I, class T, class... Bindings>
    static view<const T> rows_of(thread_state& state, std::size_t first, std::size_t count, const Bindings&... bindings) {
        if constexpr (info[I].what == fuse::category::leaf) return binding_for<node_at<I>>(bindings...).values().row_block(first, count);
        else return view<const T>(state.template tile<T>()[I].view()).row_block(0, count);
    }

    // The bindings of nest graph Nest for one tile: tiles for its tile leaves, the rows of the
    // tile for the call's leaves with a token axis, the rest as the call bound them.
    template <class Nest, class T, class F, class... Bindings>
    static void with_tile_bindings(thread_state& state, std::size_t first, std::size_t count, F&& f,
                                   const Bindings&... bindings) {
        [&]<class... Leaves>(boost::hana::tuple<Leaves...>) {
            const auto bind = [&]<class Leaf>(Leaf*) {
                if constexpr (fuse::is_tile_leaf<Leaf>) {
                    constexpr std::size_t k = fuse::tile_number<Leaf>;
                    return binding<Leaf, T>(view<const T>(state.template tile<T>()[matmul_node_of[k]].view()).row_block(0, count));
                } else {
                    const auto& bound = binding_for<Leaf>(bindings...);
                    using V = typename std::remove_cvref_t<decltype(bound)>::value_type;
                    if constexpr (kind_of<Leaf>::has_tokens) return binding<Leaf, V>(bound.values().row_block(first, count));
                    else return binding<Leaf, V>(bound.values());
                }
            };
            f(bind(static_cast<typename Leaves::type*>(nullptr))...);
        }(decltype(leaves_of(Nest{})){});
    }

    template <class T, class Views, class... Bindings>
    void run_tiles(const sizes& extents, const Views& views, const Bindings&... bindings) {
        std::array<std::size_t, N> width{};
        detail::for_each_node<nodes>([&]<std::size_t I, class E>(std::integral_constant<std::size_t, I>, E*) {
            width[I] = extents.cols<kind_of<E>>();
        });
        const std::size_t tokens = extents.tokens();
        pack_weights<T>(bindings...);
        if (states_.size() != static_cast<std::size_t>(threads_)) states_ = std::vector<thread_state>(static_cast<std::size_t>(threads_));
        for (auto& state : states_) prepare<T>(state, width);

        const auto tile_count = static_cast<std::ptrdiff_t>((tokens + tile_tokens_ - 1) / tile_tokens_);
#pragma omp parallel num_threads(threads_)
        {
#ifdef _OPENMP
            thread_state& state = states_[static_cast<std::size_t>(omp_get_thread_num())];
#else
            thread_state& state = states_[0];
#endif
#pragma omp for schedule(static)
            for (std::ptrdiff_t k = 0; k < tile_count; ++k) {
                if (state.failure) continue;
                const std::size_t first = static_cast<std::size_t>(k) * tile_tokens_;
                try {
                    run_tile<T>(state, first, std::min(tile_tokens_, tokens - first), views, bindings...);
                } catch (...) {
                    state.failure = std::current_exception();
                }
            }
        }
        for (auto& state : states_)
            if (state.failure) std::rethrow_exception(std::exchange(state.failure, nullptr));
        write_after_tiles<T>(views, bindings...);
    }

    // Weights packed for the GEMMs of this call (in double, the GEMMs read them as bound).
    template <class T, class... Bindings>
    void pack_weights(const Bindings&... bindings) {
        if constexpr (std::is_same_v<T, float>) {
            detail::repeat(std::make_index_sequence<N>{}, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
                if constexpr (info[I].what == fuse::category::matmul) {
                    const auto w = binding_for<node_at<static_cast<std::size_t>(info[I].operands[1])>>(bindings...).values();
                    packed_[I].pack(w.data(), w.rows(), w.cols(), w.row_stride(), info[I].transposed, best_gemm_isa(), threads_);
                }
            });
        }
    }

    template <class T>
    void prepare(thread_state& state, const std::array<std::size_t, N>& width) {
        state.failure = nullptr;
        detail::repeat(std::make_index_sequence<stage_count>{}, [&]<std::size_t S>(std::integral_constant<std::size_t, S>) {
            std::get<S>(state.stages).set_threads(1);
        });
        state.last.set_threads(1);
        for (std::size_t i = 0; i < N; ++i) {
            const bool tiled = tiling::matmul_rank[i] >= 0 || tiling::computed_in_stage[i] >= 0;
            if (tiled) workspace<N>::fit(state.template tile<T>()[i], tile_tokens_, width[i]);
            if (tiling::token_sum[i]) {
                workspace<N>::fit(state.token_sums[i], 1, width[i]);
                workspace<N>::fit(state.tile_token_sums[i], 1, width[i]);
            }
            if (info[i].what == fuse::category::outer_sum) {
                const std::size_t rows = width_of_operand(i, 0, width);
                auto& sum = state.template weight_sum<T>()[i];
                workspace<N>::fit(sum, rows, width[i]);
                std::fill_n(sum.data(), sum.size(), T(0));
            }
        }
        for_each_token_sum([&]<std::size_t I, class Op>() {
            std::fill_n(state.token_sums[I].data(), state.token_sums[I].size(), Op::template identity<double>());
        });
    }

    // Calls f.template operator()<I, Op>() for each sum over tokens I that the last nest writes
    // per tile, Op its reduction (a sum, a max): the tiles' partials combine by it.
    template <class F>
    static void for_each_token_sum(F&& f) {
        detail::repeat(std::make_index_sequence<N>{}, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            if constexpr (tiling::token_sum[I]) f.template operator()<I, typename node_at<I>::op>();
        });
    }
    static std::size_t width_of_operand(std::size_t i, int slot, const std::array<std::size_t, N>& width) {
        return width[static_cast<std::size_t>(info[i].operands[slot])];
    }

    // One tile: each stage's nest, then its GEMMs; then the last nest.
    template <class T, class Views, class... Bindings>
    void run_tile(thread_state& state, std::size_t first, std::size_t count, const Views& views, const Bindings&... bindings) {
        detail::repeat(std::make_index_sequence<stage_count>{}, [&]<std::size_t S>(std::integral_constant<std::size_t, S>) {
            using Nest = stage_graph<static_cast<int>(S)>;
            if constexpr (!std::is_same_v<Nest, void*>) {
                constexpr auto computed = tiling::template stage_outputs<static_cast<int>(S)>();
                with_tile_bindings<Nest, T>(state, first, count, [&](const auto&... bound) {
                    [&]<std::size_t... K>(std::index_sequence<K...>) {
                        run_nest(std::get<S>(state.stages), into(state.template tile<T>()[computed[K]].view().row_block(0, count)...), bound...);
                    }(std::make_index_sequence<computed.size()>{});
                }, bindings...);
            }
            detail::repeat(std::make_index_sequence<N>{}, [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
                if constexpr (tiling::is_contraction_at(I) && tiling::stage_of(I) == static_cast<int>(S))
                    contract<I, T>(state, first, count, bindings...);
            });
        });
        if constexpr (!std::is_same_v<last_graph, void*>) {
            with_tile_bindings<last_graph, T>(state, first, count, [&](const auto&... bound) {
                last_nest_into(state, first, count, views, [&](auto buffers) { run_nest(state.last, buffers, bound...); });
            }, bindings...);
            for_each_token_sum([&]<std::size_t I, class Op>() {
                for (std::size_t j = 0; j < state.token_sums[I].cols(); ++j)
                    state.token_sums[I](0, j) = Op::combine(state.token_sums[I](0, j), state.tile_token_sums[I](0, j));
            });
        }
    }

    // The last nest's buffers for one tile: the rows of the outputs with a token axis, then this
    // tile's sums over tokens.
    template <class Views, class F>
    static void last_nest_into(thread_state& state, std::size_t first, std::size_t count, const Views& views, F&& f) {
        constexpr auto outputs_with_tokens = [] {
            std::array<std::size_t, output_count + 1> at{};
            std::size_t n = 0;
            for (std::size_t o = 0; o < output_count; ++o)
                if (tiling::is_output_with_tokens(o)) at[n++] = o;
            return std::pair{at, n};
        }();
        constexpr auto sums = [] {
            std::array<std::size_t, N + 1> at{};
            std::size_t n = 0;
            for (std::size_t i = 0; i < N; ++i)
                if (tiling::token_sum[i]) at[n++] = i;
            return std::pair{at, n};
        }();
        [&]<std::size_t... O, std::size_t... S>(std::index_sequence<O...>, std::index_sequence<S...>) {
            f(into(std::get<outputs_with_tokens.first[O]>(views).row_block(first, count)...,
                   state.tile_token_sums[sums.first[S]].view()...));
        }(std::make_index_sequence<outputs_with_tokens.second>{}, std::make_index_sequence<sums.second>{});
    }

    // Contraction I of the tile: a GEMM into its tile (matmul) or into this thread's sum (outer_sum).
    template <std::size_t I, class T, class... Bindings>
    void contract(thread_state& state, std::size_t first, std::size_t count, const Bindings&... bindings) const {
        constexpr auto a = static_cast<std::size_t>(info[I].operands[0]);
        const view<const T> left = rows_of<a, T>(state, first, count, bindings...);
        if constexpr (info[I].what == fuse::category::matmul) {
            auto& out = state.template tile<T>()[I];
            if constexpr (std::is_same_v<T, float>) {
                gemm(left.data(), left.row_stride(), count, packed_[I], out.data(), out.cols(), false);
            } else {
                constexpr auto w = static_cast<std::size_t>(info[I].operands[1]);
                const auto weights = binding_for<node_at<w>>(bindings...).values();
                multiply_in_double(left, weights, info[I].transposed, out.view().row_block(0, count));
            }
        } else {
            constexpr auto b = static_cast<std::size_t>(info[I].operands[1]);
            const view<const T> right = rows_of<b, T>(state, first, count, bindings...);
            auto& sum = state.template weight_sum<T>()[I];
            if constexpr (std::is_same_v<T, float>) {
                gemm_tn(left.data(), left.row_stride(), right.data(), right.row_stride(), count, left.cols(), right.cols(),
                             sum.data(), sum.cols());
            } else {
                for (std::size_t t = 0; t < count; ++t)
                    for (std::size_t i = 0; i < sum.rows(); ++i)
                        for (std::size_t o = 0; o < sum.cols(); ++o) sum(i, o) += left(t, i) * right(t, o);
            }
        }
    }

    // y = a w (or a wᵀ), in double: the reference arithmetic of a double kernel.
    static void multiply_in_double(view<const double> a, view<const double> w, bool transposed, view<double> y) {
        for (std::size_t t = 0; t < y.rows(); ++t)
            for (std::size_t j = 0; j < y.cols(); ++j) {
                double sum = 0;
                for (std::size_t i = 0; i < a.cols(); ++i) sum += a(t, i) * (transposed ? w(j, i) : w(i, j));
                y(t, j) = sum;
            }
    }

    // After the tiles: the threads' sums merged in thread order, into the weight and sum
    // outputs, and the whole graph's outputs computed from them.
    template <class T, class Views, class... Bindings>
    void write_after_tiles(const Views& views, const Bindings&... bindings) {
        for_each_token_sum([&]<std::size_t I, class Op>() {
            auto& merged = merged_sums_[I];
            workspace<N>::fit(merged, 1, states_[0].token_sums[I].cols());
            for (std::size_t j = 0; j < merged.cols(); ++j) {
                double sum = Op::template identity<double>();
                for (auto& state : states_) sum = Op::combine(sum, state.token_sums[I](0, j));
                merged(0, j) = sum;
            }
        });
        detail::repeat(std::make_index_sequence<output_count>{}, [&]<std::size_t O>(std::integral_constant<std::size_t, O>) {
            constexpr auto i = static_cast<std::size_t>(table::outputs[O]);
            const auto& out = std::get<O>(views);
            if constexpr (tiling::is_weight_output(O)) {
                using V = typename std::remove_cvref_t<decltype(out)>::value_type;
                // Rows split over the threads; each element still adds the threads' sums in order.
                const auto rows = static_cast<std::ptrdiff_t>(out.rows());
#pragma omp parallel for num_threads(threads_) schedule(static)
                for (std::ptrdiff_t row = 0; row < rows; ++row) {
                    const auto r = static_cast<std::size_t>(row);
                    for (std::size_t c = 0; c < out.cols(); ++c) {
                        T sum = states_[0].template weight_sum<T>()[i](r, c);
                        for (std::size_t s = 1; s < states_.size(); ++s) sum += states_[s].template weight_sum<T>()[i](r, c);
                        out(r, c) = static_cast<V>(sum);
                    }
                }
            } else if constexpr (tiling::is_sum_output(O)) {
                using V = typename std::remove_cvref_t<decltype(out)>::value_type;
                for (std::size_t c = 0; c < out.cols(); ++c) out(0, c) = static_cast<V>(merged_sums_[i](0, c));
            }
        });
        if constexpr (!std::is_same_v<whole_graph, void*>) write_whole<T>(views, bindings...);
    }

    template <class T, class Views, class... Bindings>
    void write_whole(const Views& views, const Bindings&... bindings) {
        constexpr auto whole = [] {
            std::array<std::size_t, output_count> at{};
            std::size_t n = 0;
            for (std::size_t o = 0; o < output_count; ++o)
                if (tiling::is_whole_output(o)) at[n++] = o;
            return std::pair{at, n};
        }();
        [&]<class... Leaves>(boost::hana::tuple<Leaves...>) {
            const auto bind = [&]<class Leaf>(Leaf*) {
                if constexpr (fuse::is_token_sum_leaf<Leaf>) {
                    return binding<Leaf, double>(view<const double>(merged_sums_[fuse::token_sum_node<tiling, Leaf>].view()));
                } else {
                    const auto& bound = binding_for<Leaf>(bindings...);
                    return binding<Leaf, typename std::remove_cvref_t<decltype(bound)>::value_type>(bound.values());
                }
            };
            // The whole graph reads statistics only: it computes in double, then rounds once.
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (workspace<N>::fit(whole_results_[K], std::get<whole.first[K]>(views).rows(), std::get<whole.first[K]>(views).cols()), ...);
                run_nest(whole_, into(whole_results_[K]...), bind(static_cast<typename Leaves::type*>(nullptr))...);
                (copy_rounded(whole_results_[K].view(), std::get<whole.first[K]>(views)), ...);
            }(std::make_index_sequence<whole.second>{});
        }(decltype(leaves_of(whole_graph{})){});
    }

    template <class T>
    static void copy_rounded(view<const double> from, view<T> to) {
        for (std::size_t r = 0; r < to.rows(); ++r)
            for (std::size_t c = 0; c < to.cols(); ++c) to(r, c) = static_cast<T>(from(r, c));
    }

    int threads_ = default_threads();
    std::size_t tile_tokens_ = default_tile_tokens;
    std::vector<thread_state> states_;
    std::array<packed_weight, N> packed_;
    std::array<tensor<double>, N> merged_sums_;
    std::array<tensor<double>, output_count> whole_results_;
    nest_of<whole_graph> whole_;
};

}  // namespace etna::cpu
