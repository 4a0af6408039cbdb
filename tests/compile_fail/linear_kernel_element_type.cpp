// A kernel with linear layers reads and writes one element type: float data into a double
// buffer for an Act output is refused.
// expect: static assertion failed: etna: a kernel reads and writes one element type: its output buffers hold
// expect: etna::kernel<
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    tensor<float> X(2, 3, 1.0f), Wv(3, 4, 1.0f);
#ifdef ETNA_TWIN
    tensor<float> Y(2, 4);
#else
    tensor<double> Y(2, 4);
#endif
    compile(matmul(x, W))(into(Y), x = X, W = Wv);
}
