// Literals: compile-time Scalar constants (constant<1e-5>), part of the type like every node.
#pragma once

#include <boost/hana/tuple.hpp>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// The value is a template argument, so that equal constants are the same type (identity = type)
// and the simplifier of the autodiff stage can fold them at compile time.
template <double Value>
struct literal : node_base {
    static constexpr node_category category = node_category::literal;
    using kind = Scalar;
    static constexpr double value = Value;
    static constexpr auto operands = boost::hana::tuple_t<>;
};

template <double Value>
inline constexpr literal<Value> constant{};

template <class E>
inline constexpr bool is_literal = is_node_category<E, node_category::literal>;

}  // namespace etna
