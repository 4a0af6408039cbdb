// Extents: the number of tokens T or of features D, a Scalar known only when the graph is run.
#pragma once

#include <string_view>

#include <boost/hana/tuple.hpp>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/node.hpp>

namespace etna {

namespace detail {
// How an extent is written: T, D for the default feature axis, D[ff] for another.
template <axis Over, fixed_string FeatureAxis>
consteval auto extent_symbol() {
    if constexpr (Over == axis::tokens) return fixed_string("T");
    else if constexpr (FeatureAxis == default_feature_axis) return fixed_string("D");
    else return joined<"D[", FeatureAxis, "]">();
}
template <axis Over, fixed_string FeatureAxis>
inline constexpr auto extent_symbol_v = extent_symbol<Over, FeatureAxis>();
}  // namespace detail

// mean_f(x) is sum_f(x) / extent<features, "d">: means are compositions of a sum and an extent.
// FeatureAxis names the feature axis counted ("" for tokens).
template <axis Over, fixed_string FeatureAxis>
struct extent : node_base {
    static_assert((Over == axis::tokens) == (FeatureAxis.size() == 0),
                  "etna: an extent over tokens has no feature-axis name; one over features needs one");
    static constexpr node_category category = node_category::extent;
    using kind = Scalar;
    static constexpr axis over = Over;
    static constexpr auto feature_axis = FeatureAxis;
    static constexpr auto operands = boost::hana::tuple_t<>;
    static constexpr std::string_view symbol() { return detail::extent_symbol_v<Over, FeatureAxis>.view(); }
};

using token_count = extent<axis::tokens, "">;
template <fixed_string FeatureAxis = default_feature_axis>
using feature_count = extent<axis::features, FeatureAxis>;

template <class E>
inline constexpr bool is_extent = is_node_category<E, node_category::extent>;

}  // namespace etna
