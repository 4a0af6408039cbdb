// to_dot: Graphviz text with one node per unique node and one edge per operand.
#include <string>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

using namespace etna;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("to_dot draws each unique node once, its operand edges and the outputs", "[dot]") {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
    constexpr auto c = x - mean_f(x);  // used twice below: one node
    const std::string dot = to_dot(c * c * g);
    INFO(dot);
    CHECK(dot.starts_with("digraph etna {"));
    CHECK(dot.ends_with("}\n"));
    // x, sum_f, D, /, -, *, g, *: 8 nodes, one output.
    CHECK(count(dot, ", shape=") == 8 + 1);
    CHECK(count(dot, "label=\"x\\nAct\", shape=box") == 1);
    CHECK(count(dot, "label=\"g\\nPerFeature\", shape=box") == 1);
    CHECK(count(dot, "shape=invtriangle") == 1);
    CHECK(count(dot, "shape=doublecircle") == 1);
    // Edges: sum_f <- x; / <- sum_f, D; - <- x, /; * <- c, c; * <- (c*c), g; out <- root.
    CHECK(count(dot, " -> ") == 1 + 2 + 2 + 2 + 2 + 1);
    // Subtraction and division number their operands.
    CHECK(count(dot, "[label=\"0\"]") == 2);
    CHECK(count(dot, "[label=\"1\"]") == 2);
}

TEST_CASE("to_dot draws derived gradients and several outputs", "[dot]") {
    constexpr auto x = input<"x">;
    constexpr auto g = param<"g">;
    constexpr auto b = param<"b">;
    const std::string dot = to_dot(grad(layer_norm(x, g, b), wrt(x, g, b)));
    INFO(dot);
    CHECK(count(dot, "shape=doublecircle") == 3);
    CHECK(count(dot, "label=\"dy\\nAct\", shape=box") == 1);
    CHECK(count(dot, "label=\"sum_t\"") >= 2);
}
