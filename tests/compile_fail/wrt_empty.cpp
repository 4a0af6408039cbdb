// A gradient with respect to nothing is refused where it is asked for, at wrt().
// expect: static assertion failed: etna: wrt\(\.\.\.\) needs at least one leaf
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto d = grad(exp(x), wrt(x));
#else
    constexpr auto d = grad(exp(x), wrt());
#endif
    (void)d;
}
