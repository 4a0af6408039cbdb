// A LayerNorm training pair saves two per-token statistics (saved<0>() and saved<1>()):
// pair.saved<2>() asks for a third.
// expect: static assertion failed: etna: the pair saves fewer values
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
    constexpr auto b = param<"b">;
    auto pair = vjp(layer_norm(x, g, b), wrt(x, g, b));
#ifdef ETNA_TWIN
    const auto statistic = pair.saved<1>();
#else
    const auto statistic = pair.saved<2>();
#endif
    (void)statistic;
}
