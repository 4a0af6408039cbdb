// A kernel with linear layers takes bindings (leaf = data): a tensor passed without its leaf
// is refused with the reason.
// expect: static assertion failed: etna: after the expression, every argument must be a binding such as `x = X`
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    constexpr auto W = weight<"W", "d", "ff">;
    tensor<float> X(2, 3, 1.0f), Wv(3, 4, 1.0f), Y(2, 4);
#ifdef ETNA_TWIN
    compile(matmul(x, W))(into(Y), x = X, W = Wv);
#else
    compile(matmul(x, W))(into(Y), X, W = Wv);
#endif
}
