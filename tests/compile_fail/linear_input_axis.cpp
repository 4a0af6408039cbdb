// linear(h, W, b) contracts h over W's input axis: h over another axis is a kind error.
// expect: static assertion failed: etna: kind error: matmul\(a, W\) needs a to be Act over W's input axis
// expect: matmul_operand_not_over_input_axis<etna::leaf<etna::leaf_role::input, etna::fixed_string<2>\{"h"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto W = weight<"W", "d", "ff">;
    constexpr auto b = param<"b", per_feature_over<"ff">>;
#ifdef ETNA_TWIN
    constexpr auto h = input<"h">;  // Act over "d"
#else
    constexpr auto h = input<"h", act_over<"ff">>;
#endif
    constexpr auto y = linear(h, W, b);
    (void)y;
}
