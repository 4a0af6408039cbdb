// sum_t of a weight is refused for what a weight is (two feature axes), not for lacking a token
// axis, which would suggest it is PerFeature or Scalar.
// expect: static assertion failed: etna: a weight is not reduced by sum_f, sum_t, max_f or max_t \(it has two feature axes\)
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
#ifdef ETNA_TWIN
    constexpr auto y = sum_t(matmul(x, W));
#else
    constexpr auto y = sum_t(W);
#endif
    (void)y;
}
