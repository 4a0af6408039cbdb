// A kernel with linear layers runs over tiles of tokens: BatchNorm's sums over tokens cannot feed
// a linear layer (every tile would be needed before any).
// expect: static assertion failed: etna: in a graph with linear layers, a sum over tokens may only make outputs
// errors: 1
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
    tensor<float> X(2, 3, 1.0f), Wv(3, 4, 1.0f), bv(1, 4, 0.0f), g(1, 3, 1.0f), beta(1, 3, 0.0f);
    (void)kernel(x = X, W = Wv, b = bv, param<"g"> = g, param<"beta"> = beta);
}
