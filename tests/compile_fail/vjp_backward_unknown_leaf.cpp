// A pair's backward takes the forward's bindings and the seeds, nothing else.
// expect: binding_for_unknown_leaf<etna::fixed_string<3>\{"xx"\}>
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto dy = input<"dy">;
    tensor<double> X(2, 3, 1.0), DY(2, 3, 1.0);
    auto pair = vjp(exp(x), wrt(x));
    pair.forward(x = X);
#ifdef ETNA_TWIN
    pair.backward(x = X, dy = DY);
#else
    pair.backward(input<"xx"> = X, x = X, dy = DY);
#endif
}
