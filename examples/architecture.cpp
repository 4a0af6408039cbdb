// docs/architecture.md's example: the program the planner makes of softmax, a maximum and a sum
// over a token's features, and the split of its training pair.
//! [program]
#include <etna/etna.hpp>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto y = softmax(x);  // exp(x - max_f(x)) / sum_f(exp(x - max_f(x)))

int main() {
    fmt::print("{}\n", y);
    fmt::print("{}", explain(compile(y)));  // the program compile(y) runs
    fmt::print("{}", explain(vjp(y, wrt(x))));  // what its training forward saves, both programs
}
//! [program]
