// A kernel with two outputs needs two buffers in into(...).
// expect: static assertion failed: etna: into\(\.\.\.\) needs exactly one buffer per output of the kernel
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    tensor<float> X(2, 3, 1.0f), A(2, 3), B(2, 3);
    auto kernel = compile(x + x, x * x);
#ifdef ETNA_TWIN
    kernel(into(A, B), x = X);
#else
    kernel(into(A), x = X);
#endif
}
