// A kernel reads and writes one element type: double inputs into float outputs are refused.
// expect: static assertion failed: etna: a kernel reads and writes one element type
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    tensor<float> Y(2, 3);
#ifdef ETNA_TWIN
    tensor<float> X(2, 3, 1.0f);
#else
    tensor<double> X(2, 3, 1.0);
#endif
    compile(exp(x))(into(Y), x = X);
}
