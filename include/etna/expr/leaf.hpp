// Leaves: named inputs of a graph (input<"x">, param<"gamma">, mask<"pad">, scalar<"lr">).
#pragma once

#include <utility>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// What a leaf stands for. The role does not change how a leaf is evaluated; it documents intent
// and lets later stages pick leaves by role (parameters to train, masks that carry no gradient).
enum class leaf_role : unsigned char { input, param, mask };

template <leaf_role Role, fixed_string Name, a_kind Kind>
struct leaf : node_base {
    using kind = Kind;
    static constexpr leaf_role role = Role;
    static constexpr auto name = Name;
    static constexpr auto operands = boost::hana::tuple_t<>;

    // `x = X` binds data to this leaf for one call (runtime/binding.hpp defines make_binding;
    // it is found by argument-dependent lookup when a binding is made).
    template <class Value>
    constexpr auto operator=(Value&& value) const {
        return make_binding(*this, std::forward<Value>(value));
    }
};

template <fixed_string Name, a_kind Kind = Act>
inline constexpr leaf<leaf_role::input, Name, Kind> input{};

template <fixed_string Name, a_kind Kind = PerFeature>
inline constexpr leaf<leaf_role::param, Name, Kind> param{};

template <fixed_string Name>
inline constexpr leaf<leaf_role::mask, Name, PerToken> mask{};

// A run-time scalar such as a learning rate; bound to a number.
template <fixed_string Name>
inline constexpr leaf<leaf_role::input, Name, Scalar> scalar{};

template <class E>
inline constexpr bool is_leaf = false;
template <leaf_role Role, fixed_string Name, a_kind Kind>
inline constexpr bool is_leaf<leaf<Role, Name, Kind>> = true;

}  // namespace etna
