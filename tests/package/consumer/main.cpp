// Uses the installed etna: builds LayerNorm, prints it, evaluates one token.
#include <cmath>
#include <cstdio>

#include <etna/etna.hpp>

int main() {
    using namespace etna;
    constexpr auto x = input<"x">;
    constexpr auto y = layer_norm(x, param<"g">, param<"b">);
    const tensor<double> X{{1.0, 2.0, 3.0}};
    const std::vector<double> G{1.0, 1.0, 1.0}, B{0.0, 0.0, 0.0};
    const auto out = interpret<double>(y, x = X, param<"g"> = G, param<"b"> = B);
    fmt::print("{}\n{:.4f}\n", y, out);
    // (1 - 2) / sqrt(2/3 + 1e-5)
    return std::abs(out(0, 0) + 1.0 / std::sqrt(2.0 / 3.0 + 1e-5)) < 1e-12 ? 0 : 1;
}
