// Binding one leaf twice in a call is ambiguous and rejected by name.
// expect: leaf_bound_twice<etna::fixed_string<2>\{"x"\}>
// expect: static assertion failed: etna: the leaf named in 'leaf_bound_twice<...>' above is bound by two arguments
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto x = input<"x">;
    const tensor<double> X(2, 3, 1.0);
#ifdef ETNA_TWIN
    auto y = interpret<double>(exp(x), x = X);
#else
    auto y = interpret<double>(exp(x), x = X, x = X);
#endif
    (void)y;
}
