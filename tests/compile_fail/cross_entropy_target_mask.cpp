// softmax_cross_entropy(logits, target) takes the classes as one-hot rows (Act of the logits'
// kind), not as a PerToken value such as a mask.
// expect: static assertion failed: etna: softmax_cross_entropy\(logits, target\): logits and the one-hot target must be Act values of the same kind
// errors: 1
#include <etna/etna.hpp>

using namespace etna;

int main() {
    constexpr auto logits = input<"y", act_over<"out">>;
#ifdef ETNA_TWIN
    constexpr auto target = input<"target", act_over<"out">>;
#else
    constexpr auto target = mask<"target">;
#endif
    constexpr auto loss = softmax_cross_entropy(logits, target);
    (void)loss;
}
