// linear(h, W, b) adds b to the output features: a bias over the input axis is a kind error.
// expect: static assertion failed: etna: linear\(h, W, b\): b must be PerFeature over W's output axis
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto W = weight<"W", "d", "ff">;
#ifdef ETNA_TWIN
    constexpr auto b = param<"b", per_feature_over<"ff">>;
#else
    constexpr auto b = param<"b">;  // PerFeature over "d"
#endif
    constexpr auto y = linear(input<"x">, W, b);
    (void)y;
}
