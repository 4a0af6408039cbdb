// A statistic leaf is bound to double data, in float kernels too.
// expect: static assertion failed: etna: a statistic leaf is bound to double data
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto mu = statistic<"mu", PerToken>;
    tensor<float> X(2, 3, 1.0f);
#ifdef ETNA_TWIN
    tensor<double> MU(2, 1, 1.0);
#else
    tensor<float> MU(2, 1, 1.0f);
#endif
    compile(x - mu)(x = X, mu = MU);
}
