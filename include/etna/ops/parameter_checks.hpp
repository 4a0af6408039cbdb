// Kind requirements shared by the norms: what gamma, beta, eps and masks must be.
#pragma once

#include <type_traits>

#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// P is one value per feature of X (a scale or shift of X's features).
template <class X, class P>
inline constexpr bool per_feature_of = is_per_feature<kind_of<P>> && kind_of<P>::feature_axis == kind_of<X>::feature_axis;

template <class E>
inline constexpr bool is_scalar = std::is_same_v<kind_of<E>, Scalar>;

template <class E>
inline constexpr bool is_act = kind_of<E>::has_tokens && kind_of<E>::has_features;

}  // namespace etna
