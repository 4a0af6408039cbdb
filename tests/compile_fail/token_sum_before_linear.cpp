// A kernel with linear layers runs over tiles of tokens: BatchNorm's sums over tokens cannot feed
// a linear layer (every tile would be needed before any).
// expect: static assertion failed: etna: in a graph with linear layers, a sum over tokens may only make outputs
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    constexpr auto b = param<"b", per_feature_over<"ff">>;
#ifdef ETNA_TWIN
    auto kernel = compile(linear(layer_norm(x, param<"g">, param<"beta">), W, b));
#else
    auto kernel = compile(linear(batch_norm(x, param<"g">, param<"beta">), W, b));
#endif
    (void)kernel;
}
