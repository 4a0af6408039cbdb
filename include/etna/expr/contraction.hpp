// Contractions: the primitives of linear layers, beside the elementwise maps and the sums.
//   matmul(a, W)      y[t, o] = sum_i a[t, i] W[i, o]   Act[in] x Weight[in->out] -> Act[out]
//   matmul_t(a, W)    y[t, i] = sum_o a[t, o] W[i, o]   Act[out] x Weight[in->out] -> Act[in]   (a Wᵀ)
//   outer_sum(a, b)   G[i, o] = sum_t a[t, i] b[t, o]   Act[in] x Act[out] -> Weight[in->out]   (aᵀ b)
// Each one's adjoint is a contraction again, so the family is closed under differentiation.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <boost/hana/tuple.hpp>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

// a W, or a Wᵀ when Transposed: per token, a vector over one of W's axes to one over the other.
template <expression A, expression W, bool Transposed>
struct matmul_node : node_base {
    using weight = kind_of<W>;
    static_assert(is_weight<weight>, "etna: the second operand of a contraction is a weight");
    static constexpr node_category category = node_category::contraction;
    static constexpr axis over = axis::features;  // a token's features, by the weight's rows
    static constexpr std::string_view symbol() { return Transposed ? "matmul_t" : "matmul"; }
    using kind = std::conditional_t<Transposed, act_over<weight::input_axis>, act_over<weight::feature_axis>>;
    static constexpr bool transposed = Transposed;
    static constexpr auto operands = boost::hana::tuple_t<A, W>;
    template <class... New>
    using with_operands = matmul_node<New..., Transposed>;

    // y = a W: da = d Wᵀ, dW = aᵀ d summed over tokens. y = a Wᵀ: da = d W, dW = dᵀ a.
    // (f.fit(d, out) is d as an Act value: a constant adjoint, as sum(y) gives, broadcast.)
    static constexpr auto adjoint(auto f, auto d, auto out, auto a, auto w) {
        const auto dy = f.fit(d, out);
        if constexpr (Transposed) return prim::adjoints(f.template matmul<false>(dy, w), f.outer_sum(dy, a));
        else return prim::adjoints(f.template matmul<true>(dy, w), f.outer_sum(a, dy));
    }

    // The definition, sums in index order: y (tokens x n) from a (tokens x k) and w (In x Out).
    template <class Y, class Av, class Wv>
    static void apply(Y& y, const Av& a, const Wv& w) {
        const std::size_t k = a.cols();
        for (std::size_t t = 0; t < y.rows(); ++t)
            for (std::size_t j = 0; j < y.cols(); ++j) {
                typename Y::value_type sum = 0;
                for (std::size_t i = 0; i < k; ++i) sum += a(t, i) * (Transposed ? w(j, i) : w(i, j));
                y(t, j) = sum;
            }
    }
};

// aᵀ b: the sum over tokens of the outer products of a token's a (over In) and b (over Out).
template <expression A, expression B>
struct outer_sum_node : node_base {
    static constexpr node_category category = node_category::contraction;
    static constexpr axis over = axis::tokens;
    static constexpr std::string_view symbol() { return "outer_sum"; }
    using kind = weight_kind<kind_of<A>::feature_axis, kind_of<B>::feature_axis>;
    static constexpr auto operands = boost::hana::tuple_t<A, B>;
    template <class... New>
    using with_operands = outer_sum_node<New...>;

    // G = aᵀ b: da[t, i] = sum_o d[i, o] b[t, o], that is b dᵀ; db = a d.
    static constexpr auto adjoint(auto f, auto d, auto out, auto a, auto b) {
        const auto dg = f.fit(d, out);
        return prim::adjoints(f.template matmul<true>(b, dg), f.template matmul<false>(a, dg));
    }

    // The definition, sums in token order: g (In x Out) from a (tokens x In) and b (tokens x Out).
    template <class G, class Av, class Bv>
    static void apply(G& g, const Av& a, const Bv& b) {
        for (std::size_t i = 0; i < g.rows(); ++i)
            for (std::size_t o = 0; o < g.cols(); ++o) {
                typename G::value_type sum = 0;
                for (std::size_t t = 0; t < a.rows(); ++t) sum += a(t, i) * b(t, o);
                g(i, o) = sum;
            }
    }
};

template <class E>
inline constexpr bool is_contraction = is_node_category<E, node_category::contraction>;

// A contraction over a token's features (matmul, matmul_t: per token, into a tile) or over the
// tokens (outer_sum: summed into a weight).
template <class E>
inline constexpr bool is_matmul = [] {
    if constexpr (is_contraction<E>) return std::remove_cv_t<E>::over == axis::features;
    else return false;
}();
template <class E>
inline constexpr bool is_outer_sum = [] {
    if constexpr (is_contraction<E>) return std::remove_cv_t<E>::over == axis::tokens;
    else return false;
}();

namespace diagnostic {

template <class Operand>
struct matmul_needs_a_weight {
    static_assert(always_false<Operand>,
                  "etna: matmul(a, W): W must be a weight (weight<\"name\", \"in\", \"out\">); it is the type in "
                  "'matmul_needs_a_weight<...>' above");
};

template <class Operand, class Weight>
struct matmul_operand_not_over_input_axis {
    static_assert(always_false<Operand>,
                  "etna: kind error: matmul(a, W) needs a to be Act over W's input axis (a weight<\"W\", \"d\", \"ff\"> "
                  "maps Act[d] to Act[ff]); a and W are the two types in 'matmul_operand_not_over_input_axis<...>' above (for matmul_t(a, W), a is over W's output axis)");
};

template <class Left, class Right>
struct outer_sum_needs_two_acts {
    static_assert(always_false<Left>,
                  "etna: kind error: outer_sum(a, b) needs two Act values (tokens x features); they are the two types in "
                  "'outer_sum_needs_two_acts<...>' above");
};

}  // namespace diagnostic

// a W: Act over W's input axis to Act over its output axis. matmul_t(a, W) = a Wᵀ maps back.
template <expression A, expression W>
constexpr auto matmul(A a, W) {
    if constexpr (!is_weight<kind_of<W>>) return (void)sizeof(diagnostic::matmul_needs_a_weight<W>), a;
    else if constexpr (!(kind_of<A>::has_tokens && kind_of<A>::has_features && kind_of<A>::feature_axis == kind_of<W>::input_axis))
        return (void)sizeof(diagnostic::matmul_operand_not_over_input_axis<A, W>), a;
    else return matmul_node<A, W, false>{};
}

template <expression A, expression W>
constexpr auto matmul_t(A a, W) {
    if constexpr (!is_weight<kind_of<W>>) return (void)sizeof(diagnostic::matmul_needs_a_weight<W>), a;
    else if constexpr (!(kind_of<A>::has_tokens && kind_of<A>::has_features && kind_of<A>::feature_axis == kind_of<W>::feature_axis))
        return (void)sizeof(diagnostic::matmul_operand_not_over_input_axis<A, W>), a;
    else return matmul_node<A, W, true>{};
}

template <expression A, expression B>
constexpr auto outer_sum(A a, B) {
    if constexpr (!(kind_of<A>::has_tokens && kind_of<A>::has_features && kind_of<B>::has_tokens && kind_of<B>::has_features))
        return (void)sizeof(diagnostic::outer_sum_needs_two_acts<A, B>), a;
    else return outer_sum_node<A, B>{};
}

}  // namespace etna
