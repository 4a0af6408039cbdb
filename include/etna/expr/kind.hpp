// Kinds: which of the two axes (tokens T, features D) a value varies along, decided at compile time.
#pragma once

#include <concepts>
#include <string>
#include <type_traits>

#include <etna/expr/fixed_string.hpp>

namespace etna {

// The two axes of an activation. A feature axis also has a name ("d" unless told otherwise) so
// that values over different feature spaces (d_model, d_ff) cannot be mixed by accident.
enum class axis : unsigned char { tokens, features };

inline constexpr fixed_string default_feature_axis = "d";

// A kind is the set of axes a value varies along. Broadcasting follows from kinds: a value that
// lacks an axis is repeated along it. The feature-axis name is "" when there is no feature axis.
template <bool Tokens, bool Features, fixed_string FeatureAxis>
struct kind {
    static_assert(Features || FeatureAxis.size() == 0, "etna: a kind without features has no feature-axis name");
    static_assert(!Features || FeatureAxis.size() > 0, "etna: a feature axis needs a name");
    static constexpr bool has_tokens = Tokens;
    static constexpr bool has_features = Features;
    static constexpr auto feature_axis = FeatureAxis;
};

template <fixed_string Axis = default_feature_axis>
using act_over = kind<true, true, Axis>;
template <fixed_string Axis = default_feature_axis>
using per_feature_over = kind<false, true, Axis>;

using Act = act_over<>;                // tokens x features: activations
using PerFeature = per_feature_over<>;  // features, repeated over tokens: gamma, beta, BatchNorm statistics
using PerToken = kind<true, false, "">;  // tokens, repeated over features: LayerNorm statistics, masks
using Scalar = kind<false, false, "">;   // one value

// The kind of a linear layer's weight: features_in x features_out, a matrix from feature axis In
// to feature axis Out. It has no token axis; its rows run along In and its columns along Out
// (its feature_axis). Contractions read it (expr/contraction.hpp); in elementwise operations a
// weight meets only a weight of the same axes or a Scalar (an optimizer's update).
template <fixed_string In, fixed_string Out>
struct weight_kind {
    static_assert(In.size() > 0 && Out.size() > 0, "etna: a weight's feature axes need names");
    static constexpr bool has_tokens = false;
    static constexpr bool has_features = true;
    static constexpr auto feature_axis = Out;
    static constexpr auto input_axis = In;
};

template <class K>
inline constexpr bool is_weight = false;
template <fixed_string In, fixed_string Out>
inline constexpr bool is_weight<weight_kind<In, Out>> = true;

template <class K>
concept a_kind = requires {
    { K::has_tokens } -> std::convertible_to<bool>;
    { K::has_features } -> std::convertible_to<bool>;
    K::feature_axis;
};

// The kind's name as the documentation spells it: "Act", "PerFeature", "Act[ff]", ...
template <a_kind K>
[[nodiscard]] std::string kind_name() {
    if constexpr (is_weight<K>) return "Weight[" + std::string(K::input_axis.view()) + "->" + std::string(K::feature_axis.view()) + "]";
    std::string name = K::has_tokens ? (K::has_features ? "Act" : "PerToken") : (K::has_features ? "PerFeature" : "Scalar");
    if constexpr (K::has_features && !(K::feature_axis == default_feature_axis)) {
        name += '[';
        name += K::feature_axis.view();
        name += ']';
    }
    return name;
}

namespace detail {

template <class A, class B>
consteval bool same_feature_axis() {
    if constexpr (A::has_features && B::has_features) return A::feature_axis == B::feature_axis;
    else return true;
}

template <class A, class B>
consteval auto broadcast_axis_name() {
    if constexpr (A::has_features) return A::feature_axis;
    else return B::feature_axis;
}

}  // namespace detail

template <a_kind K>
inline constexpr bool is_per_token = K::has_tokens && !K::has_features;
template <a_kind K>
inline constexpr bool is_per_feature = !K::has_tokens && K::has_features && !is_weight<K>;

// Whether a weight meets a value it may be combined with: a weight of the same axes, or a Scalar.
template <a_kind A, a_kind B>
inline constexpr bool weight_compatible = !(is_weight<A> || is_weight<B>) || std::is_same_v<A, B> ||
                                          std::is_same_v<A, Scalar> || std::is_same_v<B, Scalar>;

// Two kinds can meet in one elementwise operation unless their union would be an outer product,
// would mix two feature axes, or would put a weight beside an activation or a vector.
template <a_kind A, a_kind B>
inline constexpr bool broadcastable = !(is_per_token<A> && is_per_feature<B>) && !(is_per_feature<A> && is_per_token<B>) &&
                                      detail::same_feature_axis<A, B>() && weight_compatible<A, B>;

// The kind of an elementwise result: the union of its operands' axes.
template <a_kind... Ks>
struct broadcast;
template <a_kind K>
struct broadcast<K> {
    using type = K;
};
template <a_kind A, a_kind B, a_kind... Rest>
    requires(!is_weight<A> && !is_weight<B>)
struct broadcast<A, B, Rest...> {
    using type = typename broadcast<kind<A::has_tokens || B::has_tokens, A::has_features || B::has_features,
                                         detail::broadcast_axis_name<A, B>()>,
                                    Rest...>::type;
};
// A weight with a weight of its axes or a Scalar (weight_compatible) stays that weight.
template <a_kind A, a_kind B, a_kind... Rest>
    requires(is_weight<A> || is_weight<B>)
struct broadcast<A, B, Rest...> {
    using type = typename broadcast<std::conditional_t<is_weight<A>, A, B>, Rest...>::type;
};
template <a_kind... Ks>
using broadcast_t = typename broadcast<Ks...>::type;

// The kind of a reduction's result: the operand's kind without the reduced axis.
template <axis Over, a_kind K>
using reduced_kind_t = std::conditional_t<Over == axis::tokens, kind<false, K::has_features, K::feature_axis>,
                                          kind<K::has_tokens, false, "">>;

template <axis Over, a_kind K>
inline constexpr bool has_axis = Over == axis::tokens ? K::has_tokens : K::has_features;

}  // namespace etna
