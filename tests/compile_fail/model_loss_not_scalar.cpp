// A model's loss is one number (Scalar): a mean over features alone leaves one value per token
// (PerToken); mean_t(...) over the tokens, or mse_loss(y, target), makes it a Scalar.
// expect: static assertion failed: etna: a model's loss is a Scalar expression of input<"y"> \(the head's output\) and input<"target">
// errors: 1
#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include <type_traits>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto y = input<"y", act_over<"out">>;
constexpr auto target = input<"target", act_over<"out">>;
using block = std::remove_cv_t<decltype(x + ffn(x, weight<"W1", "d", "ff">, param<"b1", per_feature_over<"ff">>,
                                                weight<"W2", "ff", "d">, param<"b2">))>;
using head = std::remove_cv_t<decltype(linear(x, weight<"Wo", "d", "out">, param<"bo", per_feature_over<"out">>))>;
#ifdef ETNA_TWIN
using loss = std::remove_cv_t<decltype(mean_t(mean_f((y - target) * (y - target))))>;
#else
using loss = std::remove_cv_t<decltype(mean_f((y - target) * (y - target)))>;
#endif

int main() {
    model_config config;
    config.axes = {{"d", 4}, {"ff", 8}, {"out", 3}};
    model<block, head, loss> m(config);
    (void)m;
}
