// check_gradient differentiates with respect to leaves of the checked graph only.
// expect: static assertion failed: etna: check_gradient: every leaf of wrt\(\.\.\.\) must be a leaf of the checked graph
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
    constexpr auto b = param<"b">;
    const tensor<double> X(2, 3, 1.0), G(1, 3, 1.0);
#ifdef ETNA_TWIN
    const auto r = check_gradient(x * g, wrt(x, g), x = X, g = G);
#else
    const auto r = check_gradient(x * g, wrt(x, b), x = X, g = G);
#endif
    (void)r;
}
