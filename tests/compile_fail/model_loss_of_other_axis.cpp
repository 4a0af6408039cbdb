// The loss must read the head's output as it is: here the head maps d to "out", but the loss
// reads input<"y"> over d, which the model never binds.
// expect: static assertion failed: etna: a model's loss reads input<"y", K> \(the head's output\) and input<"target", K>
// errors: 1
#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include <type_traits>

using namespace etna;

constexpr auto x = input<"x">;
#ifdef ETNA_TWIN
constexpr auto y = input<"y", act_over<"out">>;
#else
constexpr auto y = input<"y">;
#endif
constexpr auto target = input<"target", kind_of<decltype(y)>>;
using block = std::remove_cv_t<decltype(x + ffn(x, weight<"W1", "d", "ff">, param<"b1", per_feature_over<"ff">>,
                                                weight<"W2", "ff", "d">, param<"b2">))>;
using head = std::remove_cv_t<decltype(linear(x, weight<"Wo", "d", "out">, param<"bo", per_feature_over<"out">>))>;
using loss = std::remove_cv_t<decltype(mse_loss(y, target))>;

int main() {
    model_config config;
    config.axes = {{"d", 4}, {"ff", 8}, {"out", 3}};
    model<block, head, loss> m(config);
    (void)m;
}
