// vjp(outputs, wrt(leaves...)): a training pair, a forward kernel that also writes the statistics
// its backward needs, and a backward kernel that reads them and recomputes everything else. The
// split is symbolic (autodiff/split.hpp) with the planner's policy (fuse/recompute.hpp); this
// stage owns the kernels and the tapes of saved values.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <fmt/format.h>

#include <etna/autodiff/grad.hpp>
#include <etna/autodiff/split.hpp>
#include <etna/cpu/compile.hpp>
#include <etna/cpu/into.hpp>
#include <etna/cpu/workspace.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/fuse/recompute.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

namespace pair_detail {

// Where a leaf's data was, to tell whether the backward is given the forward's data.
struct bound_identity {
    const void* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::size_t row_stride = 0;
    double number = 0;  // a Scalar's value (it may live in its binding)

    template <class Leaf, element T>
    static bound_identity of(const binding<Leaf, T>& bound) {
        const auto values = bound.values();
        if constexpr (std::is_same_v<kind_of<Leaf>, Scalar>) return {nullptr, 1, 1, 1, static_cast<double>(values(0, 0))};
        else return {values.data(), values.rows(), values.cols(), values.row_stride(), 0};
    }
    bool operator==(const bound_identity&) const = default;
};


}  // namespace pair_detail

template <class User, class Forward, class Backward, class Saving, class Seeds>
class training_pair;

// What a training forward keeps for its backward: the saved values (statistics in double, Act
// values in the element type of the forward) and where the forward's data was. A pair keeps one
// tape of its own; a stack of layers that share one pair keeps a tape per layer.
template <class Saving, std::size_t Leaves>
class tape {
public:
    static constexpr std::size_t count = Saving::count;

    template <std::size_t K>
    static constexpr bool is_act = kind_of<typename Saving::template node<K>>::has_tokens &&
                                   kind_of<typename Saving::template node<K>>::has_features;

    // Saved value K as the last forward wrote it, in double or in the forward's element type T.
    template <std::size_t K, element T = double>
    [[nodiscard]] view<const T> saved() const {
        static_assert(K < count, "etna: the pair saves fewer values");
        if constexpr (K >= count) return view<const T>{};  // the assertion is the only error
        else if constexpr (is_act<K>) return std::get<std::array<tensor<T>, count>>(activations_)[K].view();
        else return statistics_[K].view();
    }
    [[nodiscard]] bool valid() const noexcept { return valid_; }

private:
    template <class, class, class, class, class>
    friend class training_pair;

    std::array<tensor<double>, count> statistics_;
    std::tuple<std::array<tensor<float>, count>, std::array<tensor<double>, count>> activations_;
    std::array<pair_detail::bound_identity, Leaves> forward_data_{};
    bool valid_ = false;
    bool in_float_ = false;
};

// A training pair: forward(bindings...) computes the outputs as compile(out) does and keeps
// what the backward needs (statistics in double; a contraction's result, which would cost the
// backward a GEMM to recompute, in the element type); backward(bindings..., seeds...) computes
// the gradients from them. The backward accepts the forward's bindings (those it does not read
// are ignored) and must be given the same data the last forward was: what it saved describes
// that data. Both take an optional tape first (pair.forward(tape, into(...), ...)), to keep
// the saved values of several forwards apart. Like a kernel, a pair is not safe to call from
// two threads at once.
template <class User, class Forward, class Backward, class Saving, class Seeds>
class training_pair {
    using user_graph = as_graph_t<User>;
    using user_leaves = decltype(leaves_of(user_graph{}));
    using backward_leaves = decltype(leaves_of(Backward{}));
    static constexpr std::size_t user_outputs = decltype(boost::hana::length(user_graph::roots))::value;
    static constexpr std::size_t user_leaf_count = decltype(boost::hana::length(user_leaves{}))::value;

public:
    static constexpr std::size_t output_count = user_outputs;
    static constexpr std::size_t saved_count = Saving::count;
    using forward_graph = Forward;
    using backward_graph = Backward;
    using forward_kernel_type = kernel<Forward>;
    using backward_kernel_type = kernel<Backward>;
    using tape_type = tape<Saving, user_leaf_count>;
    using saving_type = Saving;  // what the forward saves (autodiff/split.hpp)
    template <std::size_t K>
    using saved_node = typename Saving::template node<K>;
    template <std::size_t K>
    using saved_leaf = typename Saving::template leaf<K>;

    training_pair& set_threads(int threads) {
        forward_.set_threads(threads);
        backward_.set_threads(threads);
        return *this;
    }

    // The outputs (a tensor, or a std::tuple for outputs(...)), as compile(out) returns them.
    template <class... Bindings>
    auto forward(const Bindings&... bindings) {
        using T = typename bound_element<Bindings...>::type;
        own_.valid_ = false;
        return cpu::new_outputs<forward_kernel_type, T, user_outputs, is_graph<User>>(
            forward_kernel_type::sizes_of(bindings...), [&](auto buffers) { forward(own_, buffers, bindings...); });
    }

    template <class... Views, class... Bindings>
    void forward(into_t<Views...> buffers, const Bindings&... bindings) {
        forward(own_, buffers, bindings...);
    }

    template <class... Views, class... Bindings>
    void forward(tape_type& kept, into_t<Views...> buffers, const Bindings&... bindings) {
        static_assert(sizeof...(Views) == user_outputs, "etna: into(...) needs exactly one buffer per output of the forward");
        using T = typename bound_element<Bindings...>::type;
        kept.valid_ = false;
        const sizes extents = forward_kernel_type::sizes_of(bindings...);
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            [[maybe_unused]] const auto saved_view = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
                const std::size_t rows = forward_kernel_type::template output_rows<user_outputs + J>(extents);
                const std::size_t cols = forward_kernel_type::template output_cols<user_outputs + J>(extents);
                if constexpr (tape_type::template is_act<J>) {
                    auto& value = std::get<std::array<tensor<T>, saved_count>>(kept.activations_)[J];
                    cpu::workspace<1>::fit(value, rows, cols);
                    return value.view();
                } else {
                    cpu::workspace<1>::fit(kept.statistics_[J], rows, cols);
                    return kept.statistics_[J].view();
                }
            };
            auto all = std::tuple_cat(buffers.views, std::tuple{saved_view(std::integral_constant<std::size_t, K>{})...});
            forward_(std::apply([](auto... views) { return into_t<decltype(views)...>{{views...}}; }, all), bindings...);
        }(std::make_index_sequence<saved_count>{});
        boost::hana::for_each(user_leaves{}, [&](auto node) {
            using Leaf = typename decltype(node)::type;
            kept.forward_data_[index_in<Leaf>(user_leaves{})] = pair_detail::bound_identity::of(binding_for<Leaf>(bindings...));
        });
        kept.in_float_ = std::is_same_v<T, float>;
        kept.valid_ = true;
    }

    // The gradients, a std::tuple in the order of wrt(...).
    template <class... Bindings>
    auto backward(const Bindings&... bindings) {
        return run_backward(own_, [&](const auto&... used) { return backward_(used...); }, bindings...);
    }

    template <class... Views, class... Bindings>
    void backward(into_t<Views...> buffers, const Bindings&... bindings) {
        run_backward(own_, [&](const auto&... used) { backward_(buffers, used...); }, bindings...);
    }

    template <class... Views, class... Bindings>
    void backward(const tape_type& kept, into_t<Views...> buffers, const Bindings&... bindings) {
        run_backward(kept, [&](const auto&... used) { backward_(buffers, used...); }, bindings...);
    }

    [[nodiscard]] const forward_kernel_type& forward_kernel() const noexcept { return forward_; }
    [[nodiscard]] const backward_kernel_type& backward_kernel() const noexcept { return backward_; }

    // Saved value K as the last forward (of the pair's own tape) saved it.
    template <std::size_t K, element T = double>
    [[nodiscard]] view<const T> saved() const {
        return own_.template saved<K, T>();
    }

private:
    template <class Leaf>
    static constexpr bool is_user_leaf = index_in<Leaf>(user_leaves{}) < user_leaf_count;
    template <class Leaf>
    static constexpr bool read_by_backward =
        index_in<Leaf>(backward_leaves{}) < decltype(boost::hana::length(backward_leaves{}))::value;

    template <class Seed>
    static constexpr bool is_seed = []<class... S>(seed_list<S...>) { return (std::is_same_v<Seed, S> || ...); }(Seeds{});

    // Runs f on the backward kernel's bindings: those of the call that it reads, checked against
    // the forward's of the tape, then the saved values.
    template <class F, class... Bindings>
    auto run_backward(const tape_type& kept, F&& f, const Bindings&... bindings) {
        static_assert((is_binding<Bindings> && ...), "etna: after into(...), every argument of backward must be a binding");
        constexpr auto check = []<class B>(B*) {
            using Leaf = typename B::leaf_type;
            if constexpr (!is_user_leaf<Leaf> && !is_seed<Leaf>)
                (void)sizeof(diagnostic::binding_for_unknown_leaf<Leaf::name>);
            if constexpr (bindings_of<Leaf, Bindings...> > 1) (void)sizeof(diagnostic::leaf_bound_twice<Leaf::name>);
        };
        (check(static_cast<Bindings*>(nullptr)), ...);
        using T = typename bound_element<Bindings...>::type;
        if (!kept.valid_) throw error("etna: backward needs the saved values of a forward: call forward first");
        if (kept.in_float_ != std::is_same_v<T, float>)
            throw error("etna: backward runs in the element type of its forward (the saved values are in it)");
        const auto same_as_forward = [&]<class B>(const B& bound) {
            using Leaf = typename B::leaf_type;
            if constexpr (is_user_leaf<Leaf> && read_by_backward<Leaf>) {
                if (!(pair_detail::bound_identity::of(bound) == kept.forward_data_[index_in<Leaf>(user_leaves{})]))
                    throw error(fmt::format("etna: backward reads leaf '{}', which is bound to other data than in the last "
                                            "forward; the saved values describe that forward's data: bind the same "
                                            "data, or run forward again",
                                            Leaf::name.view()));
            }
        };
        (same_as_forward(bindings), ...);
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
            [[maybe_unused]] const auto saved_binding = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
                if constexpr (tape_type::template is_act<J>) return saved_leaf<J>{} = kept.template saved<J, T>();
                else return saved_leaf<J>{} = kept.template saved<J>();
            };
            return with_bindings_of<Backward>(
                [&](const auto&... used) { return f(used..., saved_binding(std::integral_constant<std::size_t, K>{})...); },
                bindings...);
        }(std::make_index_sequence<saved_count>{});
    }

    forward_kernel_type forward_;
    backward_kernel_type backward_;
    tape_type own_;
};

// The training pair of out with respect to the leaves of wrt(...), seeded as grad(...) is.
template <class Out, expression... Leaves, expression... Seeds>
constexpr auto vjp(Out, wrt_list<Leaves...>, seed_list<Seeds...>) {
    using S = fuse::pair_split_t<Out, wrt_list<Leaves...>, seed_list<Seeds...>>;
    static_assert(S::checked);
    return training_pair<typename S::user, typename S::forward, typename S::backward, typename S::saving, seed_list<Seeds...>>{};
}

template <class Out, expression... Leaves>
constexpr auto vjp(Out out, wrt_list<Leaves...> leaves) {
    return vjp(out, leaves, autodiff::default_seed_list<as_graph_t<Out>>());
}

}  // namespace etna

