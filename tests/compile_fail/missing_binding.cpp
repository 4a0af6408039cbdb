// Calling without a binding for one of the graph's leaves fails and names that leaf.
// expect: missing_binding<etna::fixed_string<5>\{"ln\.b"\}>
// expect: static assertion failed: etna: missing binding
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"ln.g">;
    constexpr auto b = param<"ln.b">;
    const tensor<double> X(2, 3, 1.0), G(1, 3, 1.0), B(1, 3, 0.0);
#ifdef ETNA_TWIN
    auto y = interpret<double>(layer_norm(x, g, b), x = X, g = G, b = B);
#else
    auto y = interpret<double>(layer_norm(x, g, b), x = X, g = G);
#endif
    (void)y;
}
