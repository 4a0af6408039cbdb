// vjp(outputs, wrt(leaves...)): a training pair, a forward kernel that also writes the statistics
// its backward needs, and a backward kernel that reads them and recomputes everything else.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <fmt/format.h>

#include <etna/autodiff/grad.hpp>
#include <etna/cpu/into.hpp>
#include <etna/cpu/kernel.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/reduction.hpp>
#include <etna/fuse/graph_table.hpp>
#include <etna/fuse/recompute.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

namespace diagnostic {

template <class Seed>
struct seed_is_a_leaf_of_the_forward {
    static_assert(always_false<Seed>,
                  "etna: a seed of vjp(...) must not be a leaf of the forward graph (the seed is bound in the backward "
                  "only); the seed is the type in 'seed_is_a_leaf_of_the_forward<...>' above");
};

}  // namespace diagnostic

namespace autodiff {

// Saved statistic K, standing for forward node Node in the backward graph.
template <std::size_t K, class Node>
using saved_leaf_t = leaf<leaf_role::statistic, numbered<"saved", K>(), kind_of<Node>>;

// What the training forward of F saves for the backward graph B (B = grad of F): walking down
// from B's outputs, the first node on each path that F computes too and that is worth saving
// (fuse/recompute.hpp) becomes a statistic leaf of B; what lies below it is not read again.
template <class F, class B>
struct saving {
    using forward_nodes = topological_nodes_t<F>;
    using nodes = topological_nodes_t<B>;
    using table = fuse::graph_table<B>;
    static constexpr std::size_t size = table::size;

    template <class E>
    static constexpr bool savable = index_in<E>(forward_nodes{}) < node_count<F> && !is_leaf<E> && fuse::worth_saving<E>;

    // Node i's rank among the saved nodes, in topological order; -1 for the others.
    static consteval std::array<int, size> ranks() {
        constexpr auto can_save = []<class... Types>(boost::hana::tuple<Types...>) {
            return std::array<bool, sizeof...(Types)>{savable<typename Types::type>...};
        }(nodes{});
        std::array<bool, size> reached{};
        for (const int o : table::outputs) reached[static_cast<std::size_t>(o)] = true;
        for (std::size_t i = size; i-- > 0;) {
            if (!reached[i] || can_save[i]) continue;
            for (int k = 0; k < table::info[i].operand_count; ++k)
                reached[static_cast<std::size_t>(table::info[i].operands[k])] = true;
        }
        std::array<int, size> rank{};
        int next = 0;
        for (std::size_t i = 0; i < size; ++i) rank[i] = reached[i] && can_save[i] ? next++ : -1;
        return rank;
    }
    static constexpr auto rank = ranks();

    static consteval std::size_t count_saved() {
        std::size_t n = 0;
        for (const int r : rank) n += r >= 0;
        return n;
    }
    static constexpr std::size_t count = count_saved();

    static consteval std::size_t position_of_rank(std::size_t k) {
        std::size_t i = 0;
        while (rank[i] != static_cast<int>(k)) ++i;
        return i;
    }
    // The forward node saved as statistic K, and its leaf.
    template <std::size_t K>
    using node = typename decltype(+nodes{}[boost::hana::size_c<position_of_rank(K)>])::type;
    template <std::size_t K>
    using leaf = saved_leaf_t<K, node<K>>;
};

// E with every saved node replaced by its statistic leaf.
template <class S, class E>
constexpr auto substituted(E);

template <class S, class Op, class... Args>
constexpr auto rebuilt(elementwise<Op, Args...>) {
    return elementwise<Op, decltype(substituted<S>(Args{}))...>{};
}
template <class S, axis Over, class A>
constexpr auto rebuilt(reduction<Over, A>) {
    return reduction<Over, decltype(substituted<S>(A{}))>{};
}
template <class S, class E>
constexpr auto rebuilt(E e) {
    return e;
}

template <class S, class E>
constexpr auto substituted(E e) {
    constexpr int rank = S::rank[index_in<E>(typename S::nodes{})];
    if constexpr (rank >= 0) return saved_leaf_t<static_cast<std::size_t>(rank), E>{};
    else return rebuilt<S>(e);
}

template <class S, class... Roots>
constexpr auto substituted_graph(boost::hana::tuple<Roots...>) {
    return outputs(substituted<S>(typename Roots::type{})...);
}

template <class S, class... Roots, std::size_t... K>
constexpr auto forward_graph(boost::hana::tuple<Roots...>, std::index_sequence<K...>) {
    return outputs(typename Roots::type{}..., typename S::template node<K>{}...);
}

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

}  // namespace autodiff

// A training pair: forward(bindings...) computes the outputs as compile(out) does and keeps
// the statistics the backward needs (in double, whatever the element type); backward(bindings...,
// seeds...) computes the gradients from them. The backward accepts the forward's bindings
// (those it does not read are ignored) and must be given the same data the last forward was:
// what it saved describes that data. Like a kernel, a pair is not safe to call from two threads
// at once.
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
        using T = typename cpu::bound_element<Bindings...>::type;
        valid_ = false;
        const sizes extents = kernel<Forward>::sizes_of(bindings...);
        auto results = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple{tensor<T>(kernel<Forward>::template output_rows<I>(extents),
                                        kernel<Forward>::template output_cols<I>(extents))...};
        }(std::make_index_sequence<user_outputs>{});
        std::apply([&](auto&... outputs) { forward(into(outputs...), bindings...); }, results);
        if constexpr (is_graph<User>) return results;
        else return std::move(std::get<0>(results));
    }

    template <class... Views, class... Bindings>
    void forward(into_t<Views...> buffers, const Bindings&... bindings) {
        static_assert(sizeof...(Views) == user_outputs, "etna: into(...) needs exactly one buffer per output of the forward");
        valid_ = false;
        const sizes extents = kernel<Forward>::sizes_of(bindings...);
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (cpu::workspace<1>::fit(saved_[K], kernel<Forward>::template output_rows<user_outputs + K>(extents),
                                    kernel<Forward>::template output_cols<user_outputs + K>(extents)),
             ...);
            forward_(into_t<Views..., double_view<K>...>{std::tuple_cat(buffers.views, std::tuple{saved_[K].view()...})},
                     bindings...);
        }(std::make_index_sequence<saved_count>{});
        boost::hana::for_each(user_leaves{}, [&](auto node) {
            using Leaf = typename decltype(node)::type;
            forward_data_[index_in<Leaf>(user_leaves{})] = autodiff::bound_identity::of(binding_for<Leaf>(bindings...));
        });
        valid_ = true;
    }

    // The gradients, a std::tuple in the order of wrt(...).
    template <class... Bindings>
    auto backward(const Bindings&... bindings) {
        return run_backward([&](const auto&... used) { return backward_(used...); }, bindings...);
    }

    template <class... Views, class... Bindings>
    void backward(into_t<Views...> buffers, const Bindings&... bindings) {
        run_backward([&](const auto&... used) { backward_(buffers, used...); }, bindings...);
    }

    [[nodiscard]] const kernel<Forward>& forward_kernel() const noexcept { return forward_; }
    [[nodiscard]] const kernel<Backward>& backward_kernel() const noexcept { return backward_; }

    // Statistic K as the last forward saved it.
    template <std::size_t K>
    [[nodiscard]] view<const double> saved() const {
        static_assert(K < saved_count, "etna: the pair saves fewer statistics");
        return saved_[K].view();
    }

private:
    template <std::size_t>
    using double_view = view<double>;

    template <class Leaf>
    static constexpr bool is_user_leaf = index_in<Leaf>(user_leaves{}) < user_leaf_count;
    template <class Leaf>
    static constexpr bool read_by_backward =
        index_in<Leaf>(backward_leaves{}) < decltype(boost::hana::length(backward_leaves{}))::value;

    template <class Seed>
    static constexpr bool is_seed = []<class... S>(seed_list<S...>) { return (std::is_same_v<Seed, S> || ...); }(Seeds{});

    // Runs f on the backward kernel's bindings: those of the call that it reads, checked against
    // the last forward's, then the saved statistics.
    template <class F, class... Bindings>
    auto run_backward(F&& f, const Bindings&... bindings) {
        static_assert((is_binding<Bindings> && ...), "etna: after into(...), every argument of backward must be a binding");
        constexpr auto check = []<class B>(B*) {
            using Leaf = typename B::leaf_type;
            if constexpr (!is_user_leaf<Leaf> && !is_seed<Leaf>)
                (void)sizeof(diagnostic::binding_for_unknown_leaf<Leaf::name>);
            if constexpr (bindings_of<Leaf, Bindings...> > 1) (void)sizeof(diagnostic::leaf_bound_twice<Leaf::name>);
        };
        (check(static_cast<Bindings*>(nullptr)), ...);
        if (!valid_) throw error("etna: backward needs the statistics of a forward: call forward first");
        const auto same_as_forward = [&]<class B>(const B& bound) {
            using Leaf = typename B::leaf_type;
            if constexpr (is_user_leaf<Leaf> && read_by_backward<Leaf>) {
                if (!(autodiff::bound_identity::of(bound) == forward_data_[index_in<Leaf>(user_leaves{})]))
                    throw error(fmt::format("etna: backward reads leaf '{}', which is bound to other data than in the last "
                                            "forward; the saved statistics describe that forward's data: bind the same "
                                            "data, or run forward again",
                                            Leaf::name.view()));
            }
        };
        (same_as_forward(bindings), ...);
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
            return with_bindings_of<Backward>(
                [&](const auto&... kept) { return f(kept..., saved_leaf<K>{} = saved_[K].view()...); }, bindings...);
        }(std::make_index_sequence<saved_count>{});
    }

    kernel<Forward> forward_;
    kernel<Backward> backward_;
    std::array<tensor<double>, saved_count> saved_;
    std::array<autodiff::bound_identity, user_leaf_count> forward_data_{};
    bool valid_ = false;
};

// The training pair of out with respect to the leaves of wrt(...), seeded as grad(...) is.
template <class Out, expression... Leaves, expression... Seeds>
constexpr auto vjp(Out out, wrt_list<Leaves...> leaves, seed_list<Seeds...> given) {
    using G = as_graph_t<Out>;
    constexpr auto check = []<class Seed>(Seed*) {
        if constexpr (is_leaf<Seed> && index_in<Seed>(topological_nodes_t<G>{}) < node_count<G>)
            (void)sizeof(diagnostic::seed_is_a_leaf_of_the_forward<Seed>);
    };
    (check(static_cast<Seeds*>(nullptr)), ...);
    using B = decltype(grad(out, leaves, given));
    using S = autodiff::saving<G, B>;
    using Forward = decltype(autodiff::forward_graph<S>(std::remove_cv_t<decltype(G::roots)>{},
                                                        std::make_index_sequence<S::count>{}));
    using Backward = decltype(autodiff::substituted_graph<S>(std::remove_cv_t<decltype(B::roots)>{}));
    return training_pair<std::remove_cv_t<Out>, Forward, Backward, S, seed_list<Seeds...>>{};
}

template <class Out, expression... Leaves>
constexpr auto vjp(Out out, wrt_list<Leaves...> leaves) {
    return vjp(out, leaves, autodiff::default_seed_list<as_graph_t<Out>>());
}

}  // namespace etna
