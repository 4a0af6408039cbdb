// mse_loss(y, target) compares values of one kind: a target over the default axis "d" does not
// match outputs over "out".
// expect: static assertion failed: etna: mse_loss\(y, target\): y and target must be Act values of the same kind
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto y = input<"y", act_over<"out">>;
#ifdef ETNA_TWIN
    constexpr auto target = input<"target", act_over<"out">>;
#else
    constexpr auto target = input<"target">;
#endif
    constexpr auto loss = mse_loss(y, target);
    (void)loss;
}
