// A weight used by two linear layers (tied weights): its gradient, a sum of two outer_sums, is
// not yet computed by the CPU kernels.
// expect: static assertion failed: etna: a graph with linear layers may output a weight only as outer_sum
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "d">;
#ifdef ETNA_TWIN
    constexpr auto y = matmul(matmul(x, W), weight<"V", "d", "d">);
#else
    constexpr auto y = matmul(matmul(x, W), W);
#endif
    auto kernel = compile(grad(y, wrt(W)));
    (void)kernel;
}
