// A kernel with linear layers and two outputs needs two buffers in into(...).
// expect: static assertion failed: etna: into\(\.\.\.\) needs exactly one buffer per output of the kernel
// expect: etna::kernel<
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    constexpr auto h = matmul(x, W);
    tensor<float> X(2, 3, 1.0f), Wv(3, 4, 1.0f), A(2, 4), B(2, 4);
    auto kernel = compile(h, gelu(h));
#ifdef ETNA_TWIN
    kernel(into(A, B), x = X, W = Wv);
#else
    kernel(into(A), x = X, W = Wv);
#endif
}
