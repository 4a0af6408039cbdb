// A float kernel writes only statistics (outputs that are not Act) into double buffers.
// expect: static assertion failed: etna: a kernel reads and writes one element type: its output buffers hold
// expect: a statistic\) may be written into a double buffer
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    tensor<float> X(2, 3, 1.0f);
    tensor<double> mean(2, 1);
#ifdef ETNA_TWIN
    tensor<float> centred(2, 3);
#else
    tensor<double> centred(2, 3);
#endif
    compile(outputs(mean_f(x), x - mean_f(x)))(into(mean, centred), x = X);
}
