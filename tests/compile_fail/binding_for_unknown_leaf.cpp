// A binding for a leaf the graph does not read (here a misspelt name) is rejected by name.
// expect: binding_for_unknown_leaf<etna::fixed_string<5>\{"gama"\}>
// expect: static assertion failed: etna: an argument binds the leaf
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    const tensor<double> X(2, 3, 1.0), G(1, 3, 1.0);
#ifdef ETNA_TWIN
    auto y = interpret<double>(x * param<"gama">, x = X, param<"gama"> = G);
#else
    auto y = interpret<double>(x * param<"gamma">, x = X, param<"gamma"> = G, param<"gama"> = G);
#endif
    (void)y;
}
