// Reductions over one axis: sums and maxima over features (Act -> PerToken) and over tokens
// (Act -> PerFeature).
#pragma once

#include <limits>
#include <string_view>

#include <boost/hana/tuple.hpp>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

namespace prim {

// How a reduction combines the elements along its axis, beside its adjoint rule: identity<T>()
// is the result over no element, combine(a, b) joins two partial results. combine is
// associative, and kernels combine the partials of lanes, threads and tiles in a fixed order, so
// a result does not depend on how a kernel splits the work. adjoint<Over>(f, d, out, a) is the
// term the operand receives (the arguments as for a primitive's rule, expr/primitives.hpp).
struct sum_along {
    static constexpr fixed_string name = "sum";
    template <class T>
    static constexpr T identity() { return T(0); }
    template <class T>
    static constexpr T combine(T a, T b) { return a + b; }
    // Every summed element gets the sum's adjoint: d, which lacks the summed axis, broadcast
    // along it.
    template <axis Over>
    static constexpr auto adjoint(auto, auto d, auto, auto) { return adjoints(d); }
};

// The maximum propagates NaN (as the elementwise max, and PyTorch's amax); over no element it
// is -inf.
struct max_along {
    static constexpr fixed_string name = "max";
    template <class T>
    static constexpr T identity() { return -std::numeric_limits<T>::infinity(); }
    template <class T>
    static constexpr T combine(T a, T b) { return max::apply(a, b); }
    // The seed goes to the elements equal to the maximum, split evenly among ties (as PyTorch's
    // amax): each of k equal maxima gets d / k, so the adjoint still sums to d.
    template <axis Over>
    static constexpr auto adjoint(auto f, auto d, auto out, auto a) {
        const auto at_maximum = f.select(f.greater(out, a), no_gradient, constant<1.0>);
        return adjoints(f.select(f.greater(out, a), no_gradient, d / f.template sum<Over>(at_maximum)));
    }
};

}  // namespace prim

namespace detail {
// sum_f, sum_t, max_f, max_t.
template <class Op, axis Over>
inline constexpr auto reduction_symbol = joined<Op::name, Over == axis::features ? fixed_string("_f") : fixed_string("_t")>();
}  // namespace detail

// A reduction of Arg over axis Over by Op (prim::sum_along or prim::max_along). Means and
// masked means are compositions of sums (expr/mean.hpp), softmax one of a max and a sum
// (ops/softmax.hpp).
template <axis Over, expression Arg, class Op = prim::sum_along>
struct reduction : node_base {
    static_assert(!is_weight<kind_of<Arg>>, "etna: a weight is not reduced by sum_f, sum_t, max_f or max_t (it has two feature axes)");
    static constexpr node_category category = node_category::reduction;
    using kind = reduced_kind_t<Over, kind_of<Arg>>;
    using op = Op;
    static constexpr axis over = Over;
    static constexpr auto operands = boost::hana::tuple_t<Arg>;
    template <class... New>
    using with_operands = reduction<Over, New..., Op>;
    static constexpr std::string_view symbol() { return detail::reduction_symbol<Op, Over>.view(); }

    static constexpr auto adjoint(auto f, auto d, auto out, auto a) { return Op::template adjoint<Over>(f, d, out, a); }
};

// sum_f(x): per token, the sum of x over its features.
template <expression E>
constexpr auto sum_f(E) {
    static_assert(kind_of<E>::has_features,
                  "etna: sum_f(x) sums over features, but x has no feature axis (it is PerToken or Scalar)");
    return reduction<axis::features, E>{};
}

// sum_t(x): per feature, the sum of x over the tokens.
template <expression E>
constexpr auto sum_t(E) {
    // A weight has no token axis either: the reduction says what it is, alone.
    static_assert(kind_of<E>::has_tokens || is_weight<kind_of<E>>,
                  "etna: sum_t(x) sums over tokens, but x has no token axis (it is PerFeature or Scalar)");
    return reduction<axis::tokens, E>{};
}

// max_f(x): per token, the maximum of x over its features.
template <expression E>
constexpr auto max_f(E) {
    static_assert(kind_of<E>::has_features,
                  "etna: max_f(x) is a maximum over features, but x has no feature axis (it is PerToken or Scalar)");
    return reduction<axis::features, E, prim::max_along>{};
}

// max_t(x): per feature, the maximum of x over the tokens.
template <expression E>
constexpr auto max_t(E) {
    // A weight has no token axis either: the reduction says what it is, alone.
    static_assert(kind_of<E>::has_tokens || is_weight<kind_of<E>>,
                  "etna: max_t(x) is a maximum over tokens, but x has no token axis (it is PerFeature or Scalar)");
    return reduction<axis::tokens, E, prim::max_along>{};
}

template <class E>
inline constexpr bool is_reduction = is_node_category<E, node_category::reduction>;

}  // namespace etna
