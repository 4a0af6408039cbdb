// sum_f sums an activation over its one feature axis: a weight has two, so sum_f(W) is refused
// (sum the layer's output, sum_f(matmul(x, W)), instead).
// expect: static assertion failed: etna: a weight is not reduced by sum_f, sum_t, max_f or max_t \(it has two feature axes\)
// expect: etna::reduction<etna::axis::features, etna::leaf<etna::leaf_role::param, etna::fixed_string<2>\{"W"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto W = weight<"W", "d", "ff">;
#ifdef ETNA_TWIN
    constexpr auto y = sum_f(matmul(input<"x">, W));
#else
    constexpr auto y = sum_f(W);
#endif
    (void)y;
}
