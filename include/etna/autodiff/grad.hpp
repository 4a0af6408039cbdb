// grad(outputs, wrt(leaves...)): reverse-mode autodiff on expression types.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>

#include <etna/autodiff/simplify.hpp>
#include <etna/autodiff/term.hpp>
#include <etna/expr/contraction.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// The leaves to differentiate with respect to, in the order grad returns their gradients.
template <expression... Leaves>
struct wrt_list {};

// The seeds: one adjoint leaf per output, of the output's kind (the gradient of the loss with
// respect to that output, which the caller binds).
template <expression... Seeds>
struct seed_list {};

namespace diagnostic {

template <class E>
struct wrt_takes_leaves_only {
    static_assert(always_false<E>,
                  "etna: wrt(...) takes leaves (input<...>, param<...>, scalar<...>); the offending argument is the "
                  "type in 'wrt_takes_leaves_only<...>' above");
};

template <class E>
struct mask_has_no_gradient {
    static_assert(always_false<E>,
                  "etna: a mask has no gradient (it selects, and selection is a step); leave it out of wrt(...)");
};

template <class E>
struct seeds_take_leaves_only {
    static_assert(always_false<E>,
                  "etna: seeds(...) takes one input leaf per output, e.g. seeds(input<\"dy\">); the offending argument "
                  "is the type in 'seeds_take_leaves_only<...>' above");
};

template <class Seed, class Output>
struct seed_kind_differs_from_output {
    static_assert(always_false<Seed>,
                  "etna: a seed must have its output's kind (the seed is the gradient with respect to that output); "
                  "the seed and the output are the two types in 'seed_kind_differs_from_output<...>' above");
};

}  // namespace diagnostic

template <class... Leaves>
constexpr auto wrt(Leaves...) {
    static_assert(sizeof...(Leaves) > 0, "etna: wrt(...) needs at least one leaf to differentiate with respect to");
    constexpr auto check = []<class L>(L*) {
        if constexpr (!is_leaf<L>) (void)sizeof(diagnostic::wrt_takes_leaves_only<L>);
        else if constexpr (L::role == leaf_role::mask) (void)sizeof(diagnostic::mask_has_no_gradient<L>);
    };
    (check(static_cast<std::remove_cv_t<Leaves>*>(nullptr)), ...);
    return wrt_list<std::remove_cv_t<Leaves>...>{};
}

template <class... Seeds>
constexpr auto seeds(Seeds...) {
    constexpr auto check = []<class S>(S*) {
        if constexpr (!is_leaf<S>) (void)sizeof(diagnostic::seeds_take_leaves_only<S>);
    };
    (check(static_cast<std::remove_cv_t<Seeds>*>(nullptr)), ...);
    return seed_list<std::remove_cv_t<Seeds>...>{};
}

namespace autodiff {

// The default seed of output O: input<"dy"> for a graph of one output, dy0, dy1, ... otherwise.
template <std::size_t O, std::size_t Outputs>
consteval auto default_seed_name() {
    if constexpr (Outputs == 1) return fixed_string("dy");
    else return numbered<"dy", O>();
}

template <class Output, std::size_t O, std::size_t Outputs>
using default_seed_t = leaf<leaf_role::input, default_seed_name<O, Outputs>(), kind_of<Output>>;

// The reverse sweep over graph G (its unique nodes in topological order) with seeds Seeds (one
// per output). adjoint<I> is node I's adjoint: the sum of the seeds of the outputs that are
// node I and of the terms node I receives from each of its uses. Each adjoint is a class
// template instantiated once, then memoized by the compiler, so every node is differentiated
// once however many paths lead to it (a tree walk would be exponential in depth).
template <class G, class Seeds>
struct sweep {
    using seeds = Seeds;
    using nodes = topological_nodes_t<G>;
    static constexpr std::size_t size = node_count<G>;
    using roots = std::remove_cv_t<decltype(as_graph_t<G>::roots)>;

    template <std::size_t I>
    using node = typename decltype(+nodes{}[boost::hana::size_c<I>])::type;

    // One use of a node: operand `slot` of node `user`.
    struct use {
        std::size_t user = 0;
        std::size_t slot = 0;
    };
    struct uses {
        std::array<use, 3 * size + 1> at{};  // at most 3 operands per node
        std::size_t count = 0;
    };

    static constexpr auto& operand_at = operand_positions<G>;

    static consteval uses uses_of(std::size_t i) {
        uses u;
        for (std::size_t j = i + 1; j < size; ++j)
            for (std::size_t k = 0; k < 3; ++k)
                if (operand_at[j][k] == static_cast<int>(i)) u.at[u.count++] = {j, k};
        return u;
    }

    static constexpr auto& root_at = output_positions<G>;
};

template <class Sweep, std::size_t I>
struct adjoint;

// The term node `User` gives its operand `Slot`: the user's rule applied to its own adjoint,
// summed over the axes along which the user broadcasts that operand (a PerFeature gamma in an
// Act product receives sum_t(...), a PerToken mean in x - mean receives sum_f(...)).
// The terms a node's rule gives its operands, given the node's adjoint D: every node but a leaf,
// a literal or an extent declares its rule, adjoint(f, d, out, operands...), beside its definition.
template <class D, class E>
constexpr auto rules_of(E) {
    return []<class... Operands>(boost::hana::tuple<Operands...>) {
        return E::adjoint(functions{}, term<D>{}, term<E>{}, term<typename Operands::type>{}...);
    }(typename operands_of<E>::type{});
}

template <std::size_t Slot, class First, class... Rest>
constexpr auto term_at(prim::adjoint_terms<First, Rest...>) {
    if constexpr (Slot == 0) return First{};
    else return term_at<Slot - 1>(prim::adjoint_terms<Rest...>{});
}

template <class Sweep, std::size_t User, std::size_t Slot>
constexpr auto contribution() {
    using D = typename adjoint<Sweep, User>::type;
    using U = typename Sweep::template node<User>;
    using Operand = typename Sweep::template node<static_cast<std::size_t>(Sweep::operand_at[User][Slot])>;
    if constexpr (simplify::is_zero<D>) {
        return constant<0.0>;
    } else {
        constexpr auto received = expression_of(term_at<Slot>(rules_of<D>(U{})));
        using UK = kind_of<U>;
        using OK = kind_of<Operand>;
        // A contraction's rule sums by itself: its terms have their operands' kinds already.
        constexpr bool broadcasts = !is_contraction<U>;
        constexpr auto over_tokens = [](auto c) {
            if constexpr (broadcasts && UK::has_tokens && !OK::has_tokens) return simplify::sum<axis::tokens, UK::feature_axis>(c);
            else return c;
        };
        constexpr auto over_features = [](auto c) {
            if constexpr (broadcasts && UK::has_features && !OK::has_features)
                return simplify::sum<axis::features, UK::feature_axis>(c);
            else return c;
        };
        return over_features(over_tokens(received));
    }
}

// sum_all(a, b, c) = (a + b) + c, simplified; in a fixed order, so that equal graphs give
// equal types.
template <expression A>
constexpr auto sum_all(A a) {
    return a;
}
template <expression A, expression B, expression... Rest>
constexpr auto sum_all(A a, B b, Rest... rest) {
    return sum_all(simplify::add(a, b), rest...);
}

// The seeds of the outputs that are node I.
template <class Sweep, std::size_t I, class... Seeds, std::size_t... O>
constexpr auto seeds_at(seed_list<Seeds...>, std::index_sequence<O...>) {
    return sum_all(constant<0.0>, std::conditional_t<Sweep::root_at[O] == static_cast<int>(I), Seeds, literal<0.0>>{}...);
}

template <class Sweep, std::size_t I, std::size_t... U>
constexpr auto accumulate(std::index_sequence<U...>) {
    [[maybe_unused]] constexpr auto uses = Sweep::uses_of(I);
    return sum_all(seeds_at<Sweep, I>(typename Sweep::seeds{}, std::make_index_sequence<Sweep::root_at.size()>{}),
                   contribution<Sweep, uses.at[U].user, uses.at[U].slot>()...);
}

template <class Sweep, std::size_t I>
struct adjoint {
    using type = std::remove_cv_t<decltype(accumulate<Sweep, I>(std::make_index_sequence<Sweep::uses_of(I).count>{}))>;
};

// The gradient of one leaf, of the leaf's kind: its adjoint, broadcast where it lacks an axis
// (a constant gradient, or none: the outputs do not depend on the leaf).
template <class Sweep, class Leaf>
constexpr auto gradient_of(Leaf) {
    constexpr std::size_t i = index_in<Leaf>(typename Sweep::nodes{});
    constexpr auto fit = [](auto a) {
        if constexpr (std::is_same_v<kind_of<decltype(a)>, kind_of<Leaf>>) return a;
        else return simplify::broadcast(a, Leaf{});
    };
    if constexpr (i < Sweep::size) return fit(typename adjoint<Sweep, i>::type{});
    else return fit(constant<0.0>);
}

// Whether there is one seed per output (said by a static_assert), each of its output's kind (said
// by a diagnostic naming both).
template <class G, class... Seeds>
constexpr bool check_seeds(seed_list<Seeds...>) {
    using roots = std::remove_cv_t<decltype(G::roots)>;
    constexpr bool one_per_output = sizeof...(Seeds) == decltype(boost::hana::length(roots{}))::value;
    static_assert(one_per_output, "etna: seeds(...) needs one seed per output of the graph");
    if constexpr (one_per_output) [&]<std::size_t... O>(std::index_sequence<O...>) {
        constexpr auto check = []<class Seed, class Output>(Seed*, Output*) {
            if constexpr (!std::is_same_v<kind_of<Seed>, kind_of<Output>>)
                (void)sizeof(diagnostic::seed_kind_differs_from_output<Seed, Output>);
        };
        (check(static_cast<Seeds*>(nullptr), static_cast<typename decltype(+roots{}[boost::hana::size_c<O>])::type*>(nullptr)), ...);
    }(std::make_index_sequence<sizeof...(Seeds)>{});
    return one_per_output;
}

template <class G>
constexpr auto default_seeds() {
    using roots = std::remove_cv_t<decltype(G::roots)>;
    constexpr std::size_t n = decltype(boost::hana::length(roots{}))::value;
    return []<std::size_t... O>(std::index_sequence<O...>) {
        return seed_list<default_seed_t<typename decltype(+roots{}[boost::hana::size_c<O>])::type, O, n>...>{};
    }(std::make_index_sequence<n>{});
}

// The seeds grad(out, wrt(...)) uses: 1 for a lone Scalar output (a loss), default_seeds otherwise.
template <class G>
constexpr auto default_seed_list() {
    using roots = std::remove_cv_t<decltype(G::roots)>;
    using first = typename decltype(+roots{}[boost::hana::size_c<0>])::type;
    if constexpr (decltype(boost::hana::length(roots{}))::value == 1 && std::is_same_v<kind_of<first>, Scalar>)
        return seed_list<literal<1.0>>{};
    else
        return default_seeds<G>();
}

}  // namespace autodiff

// The gradients of `out` (an expression or outputs(...)) with respect to each leaf of wrt(...),
// as a graph of that many outputs, each of its leaf's kind: reverse mode, seeded by the given
// adjoint leaves (one per output, of its kind). The result is an expression graph like any other:
// print it, compile it, differentiate it again.
template <class Out, expression... Leaves, expression... Seeds>
constexpr auto grad(Out, wrt_list<Leaves...>, seed_list<Seeds...> given) {
    using G = as_graph_t<Out>;
    if constexpr (sizeof...(Leaves) == 0 || !autodiff::check_seeds<G>(given)) {
        return outputs(constant<0.0>);  // wrt() or seeds(...) has said why: nothing fails after it
    } else {
        using S = autodiff::sweep<G, seed_list<Seeds...>>;
        return outputs(autodiff::gradient_of<S>(Leaves{})...);
    }
}

// Seeded by input<"dy"> (input<"dy0">, input<"dy1">, ... for several outputs), each of its
// output's kind. A Scalar output alone, a loss, is seeded by 1: grad(loss, wrt(...)) is the
// gradient of the loss itself.
template <class Out, expression... Leaves>
constexpr auto grad(Out out, wrt_list<Leaves...> leaves) {
    return grad(out, leaves, autodiff::default_seed_list<as_graph_t<Out>>());
}

}  // namespace etna
