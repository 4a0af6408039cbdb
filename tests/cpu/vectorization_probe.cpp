// Kernels whose tile loops the vectorization test inspects: LayerNorm (arithmetic, sums over
// features, stores) and BatchNorm (sums over tokens into per-thread partials), in float.
#include <etna/etna.hpp>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

void layer_norm_kernel(const tensor<float>& X, const tensor<float>& G, const tensor<float>& B, tensor<float>& Y) {
    compile(layer_norm(x, g, b))(into(Y), x = X, g = G, b = B);
}

void batch_norm_kernel(const tensor<float>& X, const tensor<float>& G, const tensor<float>& B, tensor<float>& Y) {
    compile(batch_norm(x, g, b))(into(Y), x = X, g = G, b = B);
}
