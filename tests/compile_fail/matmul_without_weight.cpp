// matmul(x, W) multiplies by a weight: W declared as param<...> (a vector) is not one.
// expect: static assertion failed: etna: matmul\(a, W\): W must be a weight \(weight<"name", "in", "out">\)
// expect: matmul_needs_a_weight<etna::leaf<etna::leaf_role::param, etna::fixed_string<2>\{"W"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto W = weight<"W", "d", "d">;
#else
    constexpr auto W = param<"W">;
#endif
    constexpr auto y = matmul(input<"x">, W);
    (void)y;
}
