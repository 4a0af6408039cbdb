// softmax normalizes a token's features: a value without them (a PerToken one) is refused.
// expect: static assertion failed: etna: softmax\(x\) needs an Act value \(tokens x features\)
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
    constexpr auto y = softmax(x) + log_softmax(x);
#else
    constexpr auto y = softmax(mean_f(x));
#endif
    (void)y;
}
