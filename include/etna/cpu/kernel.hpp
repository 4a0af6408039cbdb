// kernel: a graph's program (fuse/program.hpp) bound to the CPU: the one thing compile() returns.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <fmt/format.h>

#include <etna/cpu/into.hpp>
#include <etna/cpu/nest_runner.hpp>
#include <etna/cpu/tile_runner.hpp>
#include <etna/expr/graph.hpp>
#include <etna/fuse/program.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/sizes.hpp>

namespace etna {

// A compiled graph: its program (fuse/program.hpp, a compile-time constant whose members the
// kernel shows: plan, or tiling and the nests' graphs) run on the bound data. A program of loop
// nests runs on cpu::nest_runner; one with contractions on cpu::tile_runner, which runs the
// same nests on tiles of tokens between GEMMs. kernel(bindings...) returns new tensors;
// kernel(into(buffers...), bindings...) writes into the caller's buffers and, once its
// workspace has the shapes of the call, allocates nothing. Outputs that are statistics (not
// Act) may be written into double buffers by a float kernel, unrounded; statistic leaves are
// read from double data. A kernel object is not safe to call from two threads at once (it owns
// its workspace); use one per thread.
template <class G>
class kernel : public fuse::program<G> {
public:
    using program = fuse::program<G>;

private:
    // What no runner runs is said here, first, and nothing is instantiated for it after.
    static_assert(program::multiplies_by_leaves,
                  "etna: the CPU kernel multiplies by weights that are leaves (weight<...>), not by computed weights: "
                  "multiply by each weight and combine the products (matmul(x, W) + matmul(x, V), not matmul(x, W + V))");
    static_assert(program::token_sums_reach_no_token,
                  "etna: in a graph with linear layers, a sum over tokens may only make outputs without a token axis (a "
                  "parameter's gradient); one that feeds a value per token would need every tile before any, which "
                  "tiles of tokens do not allow");
    using runner = std::conditional_t<!program::tiled, cpu::nest_runner<G>,
                                      std::conditional_t<program::multiplies_by_leaves && program::token_sums_reach_no_token,
                                                         cpu::tile_runner<G>, cpu::refused_runner<G>>>;

public:
    using graph_type = G;
    static constexpr std::size_t output_count = runner::output_count;

    kernel() = default;
    explicit kernel(G) {}

    // Threads for the loops over tokens (over tiles of tokens in a program with contractions).
    // The same inputs and thread count give bitwise the same outputs; another thread count may
    // round sums over tokens differently.
    kernel& set_threads(int threads) {
        if (threads < 1) throw error(fmt::format("etna: a kernel needs at least one thread, not {}", threads));
        runner_.set_threads(threads);
        return *this;
    }
    [[nodiscard]] int threads() const noexcept { return runner_.threads(); }

    // Tokens per tile of a program with contractions (cpu::default_tile_tokens unless set).
    kernel& set_tile_tokens(std::size_t tokens)
        requires program::tiled
    {
        if (tokens < 1) throw error("etna: a tile needs at least one token");
        runner_.set_tile_tokens(tokens);
        return *this;
    }
    [[nodiscard]] std::size_t tile_tokens() const noexcept
        requires program::tiled
    {
        return runner_.tile_tokens();
    }

    // Computes the outputs into new tensors: one tensor for an expression, a std::tuple for outputs(...).
    template <class... Bindings>
    auto operator()(const Bindings&... bindings) {
        if constexpr (accepts<Bindings...>()) {
            using T = typename bound_element<Bindings...>::type;
            return cpu::new_outputs<kernel, T, output_count, is_graph<G>>(sizes_of(bindings...),
                                                                         [&](auto buffers) { (*this)(buffers, bindings...); });
        }
    }

    // Computes the outputs into the given buffers, output i into the i-th. The buffers hold the
    // kernel's element type, except that a statistic output may be written into a double buffer.
    template <class... Views, class... Bindings>
    void operator()(into_t<Views...> buffers, const Bindings&... bindings) {
        static_assert(sizeof...(Views) == output_count, "etna: into(...) needs exactly one buffer per output of the kernel");
        // A buffer of const data: into(...) has said so.
        constexpr bool writable = (std::is_same_v<Views, view<typename Views::value_type>> && ...);
        if constexpr (sizeof...(Views) == output_count && writable && accepts<Bindings...>()) {
            using T = typename bound_element<Bindings...>::type;
            constexpr bool elements_fit = [&]<std::size_t... O>(std::index_sequence<O...>) {
                return ((std::is_same_v<typename Views::value_type, T> ||
                         (std::is_same_v<typename Views::value_type, double> && !is_act_output<O>)) &&
                        ...);
            }(std::index_sequence_for<Views...>{});
            static_assert(elements_fit,
                          "etna: a kernel reads and writes one element type: its output buffers hold that of the bound data, "
                          "except that an output that is not Act (a statistic) may be written into a double buffer");
            if constexpr (elements_fit) runner_.template run<T>(sizes_of(bindings...), buffers.views, bindings...);
        }
    }

    // The sizes of a call's axes, read off its bindings (checked against each other).
    template <class... Bindings>
    static sizes sizes_of(const Bindings&... bindings) {
        if constexpr (accepts<Bindings...>()) return sizes_of_bindings<G>(bindings...);
        else return {};
    }
    template <std::size_t I>
    static std::size_t output_rows(const sizes& extents) { return extents.rows<output_kind<I>>(); }
    template <std::size_t I>
    static std::size_t output_cols(const sizes& extents) { return extents.cols<output_kind<I>>(); }

private:
    // Whether a call's arguments reach the runner. Where they do not, the check that failed has
    // said why (check_bindings, check_bound_elements, or the binding's construction), once:
    // nothing that would fail again after it is instantiated.
    template <class... Bindings>
    static constexpr bool accepts() {
        if constexpr (!check_bindings<G, Bindings...>()) {
            return false;
        } else {
            using T = typename bound_element<Bindings...>::type;
            check_bound_elements<T, Bindings...>();
            return bound_elements_agree<T, Bindings...>;
        }
    }

    template <std::size_t I>
    using output_kind = kind_of<typename std::remove_cvref_t<decltype(std::remove_cv_t<decltype(as_graph_t<G>::roots)>{}[boost::hana::size_c<I>])>::type>;
    template <std::size_t I>
    static constexpr bool is_act_output = output_kind<I>::has_tokens && output_kind<I>::has_features;

    runner runner_;
};

}  // namespace etna
