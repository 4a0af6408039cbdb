// seeds(...) must give one seed per output of the differentiated graph.
// expect: static assertion failed: etna: seeds\(\.\.\.\) needs one seed per output
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
#ifdef ETNA_TWIN
    constexpr auto d = grad(outputs(x * g, mean_f(x)), wrt(x), seeds(input<"da">, input<"dm", PerToken>));
#else
    constexpr auto d = grad(outputs(x * g, mean_f(x)), wrt(x), seeds(input<"da">));
#endif
    (void)d;
}
