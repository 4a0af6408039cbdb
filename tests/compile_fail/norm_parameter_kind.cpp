// A norm's gamma must be PerFeature; a PerToken one would broadcast into a different norm.
// expect: static assertion failed: etna: layer_norm\(x, gamma, beta, eps\): gamma must be PerFeature
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto y = layer_norm(x, param<"g">, param<"b">);
#else
    constexpr auto y = layer_norm(x, mask<"g">, param<"b">);
#endif
    (void)y;
}
