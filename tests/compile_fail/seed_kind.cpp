// A seed of another kind than its output fails: the seed is the gradient with respect to it.
// expect: seed_kind_differs_from_output
// expect: static assertion failed: etna: a seed must have its output's kind
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto d = grad(mean_f(x), wrt(x), seeds(input<"dmean", PerToken>));
#else
    constexpr auto d = grad(mean_f(x), wrt(x), seeds(input<"dmean">));
#endif
    (void)d;
}
