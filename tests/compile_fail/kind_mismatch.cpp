// Adding a PerToken value to a PerFeature value is a kind error that names both kinds.
// expect: static assertion failed: etna: kind error: cannot combine a PerToken value with a PerFeature value
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto y = mask<"pad"> + param<"gamma"> * input<"x">;  // PerToken + Act: broadcast
#else
    constexpr auto y = mask<"pad"> + param<"gamma">;
#endif
    (void)y;
}
