// wrt(...) takes leaves only; an expression there fails with a sentence naming it.
// expect: wrt_takes_leaves_only<etna::elementwise<etna::prim::mul
// expect: static assertion failed: etna: wrt\(\.\.\.\) takes leaves
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
#ifdef ETNA_TWIN
    constexpr auto d = grad(x * g, wrt(x, g));
#else
    constexpr auto d = grad(x * g, wrt(x, x * g));
#endif
    (void)d;
}
