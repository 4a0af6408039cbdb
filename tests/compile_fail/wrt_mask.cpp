// Differentiating with respect to a mask fails with a sentence: a mask has no gradient.
// expect: mask_has_no_gradient
// expect: static assertion failed: etna: a mask has no gradient
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto m = mask<"m">;
    constexpr auto g = param<"g">;
    constexpr auto b = param<"b">;
#ifdef ETNA_TWIN
    constexpr auto d = grad(batch_norm_masked(x, m, g, b), wrt(x, g));
#else
    constexpr auto d = grad(batch_norm_masked(x, m, g, b), wrt(x, m));
#endif
    (void)d;
}
