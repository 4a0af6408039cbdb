// Only a Scalar leaf can be bound to a number.
// expect: static assertion failed: etna: only a Scalar leaf \(scalar<"name">\) can be bound to a number
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    auto bound = scalar<"s"> = 1.0;
#else
    auto bound = input<"x"> = 1.0;
#endif
    (void)bound;
}
