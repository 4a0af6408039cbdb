// log_softmax, like softmax, normalizes a token's features: a PerFeature value is refused.
// expect: static assertion failed: etna: log_softmax\(x\) needs an Act value \(tokens x features\)
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto y = log_softmax(x * param<"g">);
#else
    constexpr auto y = log_softmax(param<"g">);
#endif
    (void)y;
}
