// A weight enters a block through linear(...): adding it to an activation is a kind error.
// expect: static assertion failed: etna: kind error: a weight \(Weight\[in->out\]\) combines only with a weight of the same axes or a Scalar
// expect: weight_beside_other_kind<etna::leaf<etna::leaf_role::input, etna::fixed_string<2>\{"x"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto W = weight<"W", "d", "d">;
#ifdef ETNA_TWIN
    constexpr auto y = W + W * scalar<"decay">;
#else
    constexpr auto y = input<"x"> + W;
#endif
    (void)y;
}
