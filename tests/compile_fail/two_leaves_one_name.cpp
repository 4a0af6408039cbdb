// Two different leaves (here an input and a parameter) may not share a name.
// expect: two_leaves_with_one_name<etna::fixed_string<2>\{"w"\}>
// expect: static assertion failed: etna: two different leaves
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    const tensor<double> X(2, 3, 1.0), W(1, 3, 1.0);
#ifdef ETNA_TWIN
    auto y = interpret<double>(input<"x"> * param<"w">, input<"x"> = X, param<"w"> = W);
#else
    auto y = interpret<double>(input<"w"> * param<"w">, input<"w"> = X, param<"w"> = W);
#endif
    (void)y;
}
