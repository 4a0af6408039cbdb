// A gradient kernel bound with every parameter of its forward: LayerNorm's gradient does not read
// beta, and the message says that a gradient need not read every leaf, naming the leaf.
// expect: binding_for_unknown_leaf<etna::fixed_string<2>\{"b"\}>
// expect: a gradient need not read every leaf of its forward
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto dy = input<"dy">;
    constexpr auto g = param<"g">;
    constexpr auto b = param<"b">;
    const tensor<double> X(2, 3, 1.0), DY(2, 3, 1.0), G(1, 3, 1.0), B(1, 3, 0.0);
    auto backward = compile(grad(sum_t(sum_f(layer_norm(x, g, b) * dy)), wrt(x, g)));
#ifdef ETNA_TWIN
    auto [dx, dg] = backward(x = X, dy = DY, g = G);
#else
    auto [dx, dg] = backward(x = X, dy = DY, g = G, b = B);
#endif
    (void)dx;
    (void)dg;
}
