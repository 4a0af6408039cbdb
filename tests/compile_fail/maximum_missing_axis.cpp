// A maximum over an axis that a value does not have is an error, as a sum over it is.
// expect: static assertion failed: etna: max_t\(x\) is a maximum over tokens, but x has no token axis
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto g = param<"g">;
#ifdef ETNA_TWIN
    constexpr auto y = max_f(g);
#else
    constexpr auto y = max_t(g);
#endif
    (void)y;
}
