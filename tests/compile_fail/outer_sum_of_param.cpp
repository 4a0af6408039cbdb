// outer_sum(a, b) sums the outer products of two activations over the tokens: a PerFeature
// parameter has no token axis.
// expect: static assertion failed: etna: kind error: outer_sum\(a, b\) needs two Act values \(tokens x features\)
// expect: outer_sum_needs_two_acts<etna::leaf<etna::leaf_role::input, etna::fixed_string<2>\{"x"\}
// expect: etna::leaf<etna::leaf_role::param, etna::fixed_string<2>\{"b"\}, etna::kind<false, true, etna::fixed_string<3>\{"ff"\}>
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto b = input<"dy", act_over<"ff">>;
#else
    constexpr auto b = param<"b", per_feature_over<"ff">>;
#endif
    constexpr auto G = outer_sum(input<"x">, b);
    (void)G;
}
