// The save/recompute split of a training pair, as a transformation of graphs: from the user's
// graph and its gradient, a forward graph that also outputs the values the backward reads, and
// a backward graph that reads them as leaves. What is worth saving is a policy the caller
// gives (the planner's: fuse/recompute.hpp); run-time pairs are built on top (pair/).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>

#include <etna/autodiff/grad.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/node.hpp>

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

// Saved value K, standing for forward node Node in the backward graph: a statistic (in double),
// or an Act value (a contraction's result) in the element type of the call.
template <std::size_t K, class Node>
using saved_leaf_t = leaf<kind_of<Node>::has_tokens && kind_of<Node>::has_features ? leaf_role::input : leaf_role::statistic,
                          numbered<"saved", K>(), kind_of<Node>>;


// What the training forward of F saves for the backward graph B (B = grad of F): walking down
// from B's outputs, the first node on each path that F computes too and that Saves<node>::value
// says is worth saving (a policy: the planner's, fuse/recompute.hpp) becomes a leaf of B; what
// lies below it is not read again.
template <class F, class B, template <class> class Saves>
struct saving {
    using forward_nodes = topological_nodes_t<F>;
    using nodes = topological_nodes_t<B>;
    static constexpr std::size_t size = node_count<B>;

    template <class E>
    static constexpr bool savable = index_in<E>(forward_nodes{}) < node_count<F> && !is_leaf<E> && Saves<E>::value;

    // Node i's rank among the saved nodes, in topological order; -1 for the others.
    static consteval std::array<int, size> ranks() {
        constexpr auto can_save = []<class... Types>(boost::hana::tuple<Types...>) {
            return std::array<bool, sizeof...(Types)>{savable<typename Types::type>...};
        }(nodes{});
        std::array<bool, size> reached{};
        for (const int o : output_positions<B>) reached[static_cast<std::size_t>(o)] = true;
        for (std::size_t i = size; i-- > 0;) {
            if (!reached[i] || can_save[i]) continue;
            for (const int operand : operand_positions<B>[i])
                if (operand >= 0) reached[static_cast<std::size_t>(operand)] = true;
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

// E with every saved node replaced by its leaf.
template <class S, class E>
constexpr auto substituted(E e) {
    constexpr int rank = S::rank[index_in<E>(typename S::nodes{})];
    if constexpr (rank >= 0) return saved_leaf_t<static_cast<std::size_t>(rank), E>{};
    else return map_operands(e, [](auto operand) { return substituted<S>(operand); });
}

template <class S, class... Roots>
constexpr auto substituted_graph(boost::hana::tuple<Roots...>) {
    return outputs(substituted<S>(typename Roots::type{})...);
}

template <class S, class... Roots, std::size_t... K>
constexpr auto forward_graph(boost::hana::tuple<Roots...>, std::index_sequence<K...>) {
    return outputs(typename Roots::type{}..., typename S::template node<K>{}...);
}

// The split of out's gradient with respect to wrt(...), seeded as grad(...) is (Seeds), saving
// what Saves says: User (out, as the user wrote it), Forward (its outputs, then the saved
// values), Backward (the gradients, reading the saved values as leaves) and Saving.
template <class Out, class Wrt, class Seeds, template <class> class Saves>
struct split;
template <class Out, expression... Leaves, expression... Seeds, template <class> class Saves>
struct split<Out, wrt_list<Leaves...>, seed_list<Seeds...>, Saves> {
    using user = std::remove_cv_t<Out>;
    using user_graph = as_graph_t<Out>;
    using seeds = seed_list<Seeds...>;
    using gradient = decltype(grad(Out{}, wrt_list<Leaves...>{}, seeds{}));
    using saving = autodiff::saving<user_graph, gradient, Saves>;
    using forward = decltype(forward_graph<saving>(std::remove_cv_t<decltype(user_graph::roots)>{},
                                                   std::make_index_sequence<saving::count>{}));
    using backward = decltype(substituted_graph<saving>(std::remove_cv_t<decltype(gradient::roots)>{}));

    // A seed is bound in the backward only: one that is a leaf of the forward is refused.
    static constexpr bool checked = [] {
        constexpr auto check = []<class Seed>(Seed*) {
            if constexpr (is_leaf<Seed> && index_in<Seed>(topological_nodes_t<user_graph>{}) < node_count<user_graph>)
                (void)sizeof(diagnostic::seed_is_a_leaf_of_the_forward<Seed>);
        };
        (check(static_cast<Seeds*>(nullptr)), ...);
        return true;
    }();
};

}  // namespace autodiff
}  // namespace etna
