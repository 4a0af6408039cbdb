// Leaves: named inputs of a graph (input<"x">, param<"gamma">, weight<"W1", "d", "ff">,
// mask<"pad">, scalar<"lr">, statistic<"mean", PerToken>).
#pragma once

#include <utility>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// What a leaf stands for. The role documents intent and lets later stages pick leaves by role
// (parameters to train, masks that carry no gradient). A statistic is bound to double data in
// kernels of either element type: it is a value like a row mean or rstd that an earlier kernel
// computed (kernels hold such values in double, cpu/workspace.hpp) and wrote for a later one,
// as a training forward does for its backward (pair/training_pair.hpp).
enum class leaf_role : unsigned char { input, param, mask, statistic };

template <leaf_role Role, fixed_string Name, a_kind Kind>
struct leaf : node_base {
    static_assert(Role != leaf_role::statistic || !(Kind::has_tokens && Kind::has_features),
                  "etna: a statistic leaf is PerToken, PerFeature or Scalar, never Act (Act values are recomputed, "
                  "not saved)");
    static constexpr node_category category = node_category::leaf;
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

// The weight of a linear layer from feature axis In to Out: weight<"ffn.W1", "d", "ff">, bound to
// a features_in x features_out tensor.
template <fixed_string Name, fixed_string In, fixed_string Out>
inline constexpr leaf<leaf_role::param, Name, weight_kind<In, Out>> weight{};

template <fixed_string Name>
inline constexpr leaf<leaf_role::mask, Name, PerToken> mask{};

// A run-time scalar such as a learning rate; bound to a number.
template <fixed_string Name>
inline constexpr leaf<leaf_role::input, Name, Scalar> scalar{};

// A PerToken, PerFeature or Scalar value held in double, e.g. statistic<"mean", PerToken>.
template <fixed_string Name, a_kind Kind>
inline constexpr leaf<leaf_role::statistic, Name, Kind> statistic{};

template <class E>
inline constexpr bool is_leaf = is_node_category<E, node_category::leaf>;

template <class E>
inline constexpr bool is_statistic_leaf = false;
template <fixed_string Name, a_kind Kind>
inline constexpr bool is_statistic_leaf<leaf<leaf_role::statistic, Name, Kind>> = true;

}  // namespace etna
