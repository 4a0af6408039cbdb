// The README's example: a pre-norm block written as an expression, printed and evaluated.
//! [readme]
#include <vector>

#include <etna/etna.hpp>

using namespace etna;

constexpr auto x = input<"x">;     // Act: tokens x features
constexpr auto g = param<"ln.g">;  // PerFeature
constexpr auto b = param<"ln.b">;
constexpr auto y = pre_norm(x, [](auto v) { return layer_norm(v, g, b); },
                               [](auto h) { return gelu(h); });

int main() {
    fmt::print("{}\n", y);  // the formula, shared sub-expressions let-bound

    auto block = compile(y);          // one fused loop nest, planned at compile time
    fmt::print("{}", explain(block));  // the plan, as pseudo-C

    const tensor<float> X{{7, 5, 4}, {2, 3, 4}};  // T = 2 tokens, D = 3 features
    const std::vector<float> G{1, 1, 1}, B{0, 0, 0};
    const tensor<float> out = block(x = X, g = G, b = B);  // bindings by leaf
    fmt::print("{:8.4f}\n", out);
}
//! [readme]
