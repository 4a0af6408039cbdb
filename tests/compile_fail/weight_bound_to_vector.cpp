// A weight is a features_in x features_out matrix: binding it to a flat std::vector is refused.
// expect: static assertion failed: etna: a weight \(features_in x features_out\) cannot be bound to a one-dimensional vector; bind a tensor
// errors: 1
#include <etna/etna.hpp>

#include <vector>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    tensor<float> X(2, 3, 1.0f);
#ifdef ETNA_TWIN
    tensor<float> Wv(3, 4, 1.0f);
#else
    std::vector<float> Wv(3 * 4, 1.0f);
#endif
    auto y = compile(matmul(x, W))(x = X, W = Wv);
    (void)y;
}
