// A weight maps one named feature axis to another: an empty axis name is not one.
// expect: static assertion failed: etna: a weight's feature axes need names
// expect: etna::weight_kind<etna::fixed_string<1>\{""\}, etna::fixed_string<3>\{"ff"\}>
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto W = weight<"W", "d", "ff">;
#else
    constexpr auto W = weight<"W", "", "ff">;
#endif
    (void)W;
}
