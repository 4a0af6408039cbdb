// Extents: the number of tokens T or of features D, a Scalar known only when the graph is run.
#pragma once

#include <boost/hana/tuple.hpp>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// mean_f(x) is sum_f(x) / extent<features, "d">: means are compositions, so the only reduction
// primitive is the sum. FeatureAxis names the feature axis counted ("" for tokens).
template <axis Over, fixed_string FeatureAxis>
struct extent : node_base {
    static_assert((Over == axis::tokens) == (FeatureAxis.size() == 0),
                  "etna: an extent over tokens has no feature-axis name; one over features needs one");
    using kind = Scalar;
    static constexpr axis over = Over;
    static constexpr auto feature_axis = FeatureAxis;
    static constexpr auto operands = boost::hana::tuple_t<>;
};

using token_count = extent<axis::tokens, "">;
template <fixed_string FeatureAxis = default_feature_axis>
using feature_count = extent<axis::features, FeatureAxis>;

template <class E>
inline constexpr bool is_extent = false;
template <axis Over, fixed_string FeatureAxis>
inline constexpr bool is_extent<extent<Over, FeatureAxis>> = true;

}  // namespace etna
