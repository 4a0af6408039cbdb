// A statistic leaf is never Act: Act values are recomputed, not saved.
// expect: static assertion failed: etna: a statistic leaf is PerToken, PerFeature or Scalar, never Act
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto s = statistic<"s", PerToken>;
#else
    constexpr auto s = statistic<"s", Act>;
#endif
    (void)s;
}
