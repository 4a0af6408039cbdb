// Elementwise nodes: a primitive (expr/primitives.hpp) applied to operands, with broadcasting.
#pragma once

#include <boost/hana/tuple.hpp>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/primitives.hpp>

namespace etna {

// One generic node for every primitive (as Eigen's CwiseBinaryOp): the primitive is a functor
// type, so planning and printing handle all of them with one rule.
template <class Op, expression... Args>
struct elementwise : node_base {
    static_assert(sizeof...(Args) == Op::arity, "etna: wrong number of operands for this primitive");
    using kind = broadcast_t<kind_of<Args>...>;
    using op = Op;
    static constexpr auto operands = boost::hana::tuple_t<Args...>;
};

// Builds an elementwise node after checking that its operands' kinds can meet.
template <class Op, expression... Args>
constexpr auto apply_elementwise(Args...) {
    if constexpr (sizeof...(Args) == 2) (void)check_broadcastable<kind_of<Args>...>();
    return elementwise<Op, Args...>{};
}

template <class E>
inline constexpr bool is_elementwise = false;
template <class Op, expression... Args>
inline constexpr bool is_elementwise<elementwise<Op, Args...>> = true;

}  // namespace etna
