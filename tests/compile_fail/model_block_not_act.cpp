// Every layer of a model maps the residual stream (Act over "d") to itself: a block that ends
// over "ff" (a lone linear layer d -> ff) cannot be stacked.
// expect: static assertion failed: etna: a model's block maps the residual stream \(Act\) to itself
// expect: is_same_v<etna::kind<true, true, etna::fixed_string<3>\{"ff"\}>, etna::kind<true, true, etna::fixed_string<2>\{"d"\}>
// errors: 1
#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include <type_traits>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto W1 = weight<"W1", "d", "ff">;
constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
#ifdef ETNA_TWIN
using block = std::remove_cv_t<decltype(x + ffn(x, W1, b1, weight<"W2", "ff", "d">, param<"b2">))>;
#else
using block = std::remove_cv_t<decltype(linear(x, W1, b1))>;
#endif
using head = std::remove_cv_t<decltype(linear(x, weight<"Wo", "d", "out">, param<"bo", per_feature_over<"out">>))>;
using loss = std::remove_cv_t<decltype(mse_loss(input<"y", act_over<"out">>, input<"target", act_over<"out">>))>;

int main() {
    model_config config;
    config.axes = {{"d", 4}, {"ff", 8}, {"out", 3}};
    model<block, head, loss> m(config);
    (void)m;
}
