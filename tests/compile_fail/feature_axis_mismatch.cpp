// Values over two different feature axes (d_model and d_ff) cannot be combined.
// expect: static assertion failed: etna: kind error: cannot combine values over different feature axes
// expect: different_feature_axes<etna::leaf<etna::leaf_role::input, etna::fixed_string<2>\{"h"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto h = input<"h", act_over<"ff">>;
#ifdef ETNA_TWIN
    constexpr auto y = h * param<"s", per_feature_over<"ff">>;
#else
    constexpr auto y = h * param<"s">;  // a PerFeature over "d"
#endif
    (void)y;
}
