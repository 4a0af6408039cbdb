// max_f of a value without features (a PerToken mask) is an error, as sum_f of it is.
// expect: static assertion failed: etna: max_f\(x\) is a maximum over features, but x has no feature axis
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto m = mask<"pad">;
#ifdef ETNA_TWIN
    constexpr auto y = max_t(m);
#else
    constexpr auto y = max_f(m);
#endif
    (void)y;
}
