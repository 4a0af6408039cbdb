// A kind without a feature axis (PerToken, Scalar) has no feature-axis name: kind<true, false, "d">
// names an axis the value does not have.
// expect: static assertion failed: etna: a kind without features has no feature-axis name
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto m = input<"m", kind<true, false, "">>;
#else
    constexpr auto m = input<"m", kind<true, false, "d">>;
#endif
    (void)m;
}
