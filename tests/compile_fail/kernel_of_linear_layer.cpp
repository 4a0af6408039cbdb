// kernel<G> named directly runs only graphs without linear layers: a graph with a matmul needs
// its tiled_kernel, which compile(...) (or compiled_t<G>) picks.
// expect: static assertion failed: etna: kernel<G> runs graphs without contractions
#include <etna/etna.hpp>

#include <type_traits>

using namespace etna;

int main() {
    constexpr auto y = matmul(input<"x">, weight<"W", "d", "ff">);
#ifdef ETNA_TWIN
    compiled_t<std::remove_cv_t<decltype(y)>> k;
#else
    kernel<std::remove_cv_t<decltype(y)>> k;
#endif
    (void)k;
}
