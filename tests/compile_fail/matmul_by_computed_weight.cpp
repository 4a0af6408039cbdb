// The CPU kernel multiplies by weight leaves: a weight computed in the graph (here W + V) is
// refused; multiply by each leaf and add the products instead. The refusal is the only error,
// the call of the refused kernel included.
// expect: static assertion failed: etna: the CPU kernel multiplies by weights that are leaves \(weight<\.\.\.>\), not by computed weights
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    constexpr auto V = weight<"V", "d", "ff">;
#ifdef ETNA_TWIN
    constexpr auto y = matmul(x, W) + matmul(x, V);
#else
    constexpr auto y = matmul(x, W + V);
#endif
    tensor<float> X(2, 3, 1.0f), Wv(3, 4, 1.0f);
    auto kernel = compile(y);
    (void)kernel(x = X, W = Wv, V = Wv);
}
