// Adding a PerToken value to a PerFeature value is a kind error that names both kinds, with the
// two operands (and so their leaves) as the diagnostic's template arguments.
// expect: static assertion failed: etna: kind error: cannot combine a PerToken value with a PerFeature value
// expect: per_token_with_per_feature<etna::leaf<etna::leaf_role::mask, etna::fixed_string<4>\{"pad"\}
// expect: etna::leaf<etna::leaf_role::param, etna::fixed_string<6>\{"gamma"\}
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
#ifdef ETNA_TWIN
    constexpr auto y = mask<"pad"> + param<"gamma"> * input<"x">;  // PerToken + Act: broadcast
#else
    constexpr auto y = mask<"pad"> + param<"gamma">;
#endif
    (void)y;
}
