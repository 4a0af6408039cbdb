// A kernel with linear layers reads one element type: a double weight beside float tokens is
// refused with the reason, not deep inside the GEMM's packing.
// expect: static assertion failed: etna: a kernel reads and writes one element type: every bound tensor
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    tensor<float> X(2, 3, 1.0f), Y(2, 4);
#ifdef ETNA_TWIN
    tensor<float> Wv(3, 4, 1.0f);
#else
    tensor<double> Wv(3, 4, 1.0);
#endif
    compile(matmul(x, W))(into(Y), x = X, W = Wv);
}
