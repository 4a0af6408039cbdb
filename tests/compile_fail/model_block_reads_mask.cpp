// A model's blocks read the residual stream and their parameters only: a block that reads a mask
// (or positions, or any other input) is refused where the model is declared, since the model
// cannot bind it.
// expect: static assertion failed: etna: a model's block and head read only input<"x"> \(the residual stream\) and parameters
// errors: 1
#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include <type_traits>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto W1 = weight<"W1", "d", "ff">;
constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
constexpr auto W2 = weight<"W2", "ff", "d">;
constexpr auto b2 = param<"b2">;
#ifdef ETNA_TWIN
using block = std::remove_cv_t<decltype(x + ffn(x, W1, b1, W2, b2))>;
#else
using block = std::remove_cv_t<decltype(x + ffn(x, W1, b1, W2, b2) * mask<"pad">)>;
#endif
using head = std::remove_cv_t<decltype(linear(x, weight<"Wo", "d", "out">, param<"bo", per_feature_over<"out">>))>;
using loss = std::remove_cv_t<decltype(mse_loss(input<"y", act_over<"out">>, input<"target", act_over<"out">>))>;

int main() {
    model_config config;
    config.axes = {{"d", 4}, {"ff", 8}, {"out", 3}};
    model<block, head, loss> m(config);
    tensor<float> inputs(2, 4, 1.0f), targets(2, 3, 0.0f);
    adamw optimizer;
    (void)m.train_step(inputs.view(), targets.view(), optimizer, 1e-3);
}
