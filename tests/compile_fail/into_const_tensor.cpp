// A kernel cannot write its output into a const tensor.
// expect: static assertion failed: etna: into\(\.\.\.\) cannot write into a const tensor
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    tensor<float> X(2, 3, 1.0f);
#ifdef ETNA_TWIN
    tensor<float> Y(2, 3);
#else
    const tensor<float> Y(2, 3);
#endif
    compile(exp(x))(into(Y), x = X);
}
