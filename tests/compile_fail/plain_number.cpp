// A run-time number cannot be part of a graph; the message says what to write instead.
// expect: static assertion failed: etna: a plain number cannot appear in an expression; write constant<2.0>
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto y = x * constant<2.0>;
#else
    constexpr auto y = x * 2.0;
#endif
    (void)y;
}
