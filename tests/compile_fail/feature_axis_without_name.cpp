// A feature axis is named (act_over<"ff">, per_feature_over<"ff">): an empty name is not one.
// expect: static assertion failed: etna: a feature axis needs a name
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto b = param<"b", per_feature_over<"ff">>;
#else
    constexpr auto b = param<"b", per_feature_over<"">>;
#endif
    (void)b;
}
