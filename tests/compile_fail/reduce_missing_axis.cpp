// Summing over an axis that a value does not have is an error, not a silent no-op.
// expect: static assertion failed: etna: sum_f\(x\) sums over features, but x has no feature axis
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto m = mask<"pad">;
#ifdef ETNA_TWIN
    constexpr auto y = sum_t(m);
#else
    constexpr auto y = sum_f(m);
#endif
    (void)y;
}
