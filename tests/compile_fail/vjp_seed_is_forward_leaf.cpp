// A seed of vjp must not be a leaf of the forward: it is bound in the backward only.
// expect: seed_is_a_leaf_of_the_forward
// expect: static assertion failed: etna: a seed of vjp\(\.\.\.\) must not be a leaf of the forward graph
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto y = input<"y">;
#ifdef ETNA_TWIN
    auto pair = vjp(x * y, wrt(x), seeds(input<"dz">));
#else
    auto pair = vjp(x * y, wrt(x), seeds(y));
#endif
    (void)pair;
}
