// The README's model example: a stack of pre-norm blocks trained one step, saved, and loaded
// into another model, which then holds the same parameters, moments and step count.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include <etna/etna.hpp>
#include <etna/train/model.hpp>

using namespace etna;

//! [model]
constexpr auto x = input<"x">;  // the residual stream: tokens x d
constexpr auto W1 = weight<"W1", "d", "ff">;
constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
constexpr auto W2 = weight<"W2", "ff", "d">;
constexpr auto b2 = param<"b2">;
constexpr auto g = param<"ln.g">;
constexpr auto b = param<"ln.b">;
constexpr auto block = pre_norm(x, [](auto v) { return layer_norm(v, g, b); },
                                   [](auto h) { return ffn(h, W1, b1, W2, b2); });
constexpr auto head = linear(x, weight<"Wo", "d", "out">, param<"bo", per_feature_over<"out">>);
constexpr auto loss = mse_loss(input<"y", act_over<"out">>, input<"target", act_over<"out">>);
using regression = model<std::remove_cv_t<decltype(block)>, std::remove_cv_t<decltype(head)>,
                         std::remove_cv_t<decltype(loss)>>;
//! [model]

int main() {
    tensor<float> inputs(32, 16), targets(32, 4);
    normal_stream random{1};
    for (std::size_t i = 0; i < inputs.size(); ++i) inputs.data()[i] = static_cast<float>(random.next_normal());
    for (std::size_t i = 0; i < targets.size(); ++i) targets.data()[i] = static_cast<float>(random.next_normal());

    //! [save]
    model_config config;
    config.axes = {{"d", 16}, {"ff", 64}, {"out", 4}};
    config.starts = {{"ln.g", initialization::filled(1.0)}};
    config.depth = 2;
    regression trained(config);
    adamw optimizer;
    trained.train_step(inputs.view(), targets.view(), optimizer, 1e-3);  // tokens x d, tokens x out
    trained.save("regression.ckpt");  // parameters, AdamW moments, step count, depth and axis sizes

    regression restored(config);       // any model of the same configuration (seed aside)
    restored.load("regression.ckpt");  // all or nothing; another shape or a damaged file throws etna::error
    //! [save]

    int failures = restored.parameters().steps() != 1;
    for (std::size_t i = 0; i < trained.parameters().size(); ++i) {
        const view<float> a = trained.parameters().value(i), b = restored.parameters().value(i);
        failures += std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0;
    }
    std::remove("regression.ckpt");
    fmt::print("saved and loaded {} parameters: {}\n", trained.parameters().size(), failures == 0 ? "equal" : "DIFFERENT");
    return failures == 0 ? 0 : 1;
}
