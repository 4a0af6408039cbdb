// Training pairs of blocks with an FFN: the forward saves the norm's statistics and the matmul
// results (the GELU input), the backward reads them and equals the derived gradient; tapes keep
// the saved values of several forwards apart.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/ffn_block.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using etna::testing::random_tensor;

using namespace etna::testing::ffn_block;

namespace {
constexpr auto parameters = wrt(x, g, b, W1, b1, W2, b2);

struct block_data {
    tensor<double> x = random_tensor(70, 12, 1, 0.3, 1.2);
    tensor<double> other_x = random_tensor(70, 12, 9, -0.2, 0.8);
    tensor<double> dy = random_tensor(70, 12, 2);
    tensor<double> w1 = random_tensor(12, 20, 3, 0.0, 0.3);
    tensor<double> bias1 = random_tensor(1, 20, 4, 0.0, 0.1);
    tensor<double> w2 = random_tensor(20, 12, 5, 0.0, 0.22);
    tensor<double> bias2 = random_tensor(1, 12, 6, 0.0, 0.1);
    tensor<double> gamma = random_tensor(1, 12, 7, 1.0, 0.2);
    tensor<double> beta = random_tensor(1, 12, 8, 0.0, 0.2);
};

// The GEMMs a graph's kernel runs per tile: its matmul and outer_sum nodes.
template <class G>
constexpr int contractions_in() {
    int count = 0;
    for (const auto& node : fuse::graph_table<G>::info)
        count += node.what == fuse::category::matmul || node.what == fuse::category::outer_sum;
    return count;
}

// The pair's gradients at `tokens` against the interpreter's derived gradient there.
template <class Block, class Gradients>
double worst_gradient_error(Block block, const block_data& d, const tensor<double>& tokens, const Gradients& gradients) {
    constexpr auto derived = grad(block, parameters);
    const auto expected = with_bindings_of<std::remove_cv_t<decltype(derived)>>(
        [](const auto&... bound) { return interpret<double>(derived, bound...); }, x = tokens, W1 = d.w1, b1 = d.bias1,
        W2 = d.w2, b2 = d.bias2, g = d.gamma, b = d.beta, dy = d.dy);
    double worst = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((worst = std::max(worst, max_abs_difference(std::get<I>(gradients), std::get<I>(expected)))), ...);
    }(std::make_index_sequence<7>{});
    return worst;
}

}  // namespace

TEST_CASE("a block's training pair saves its matmul results and the norm's statistics", "[vjp][linear]") {
    using pre_pair = decltype(vjp(pre, parameters));
    using post_pair = decltype(vjp(post, parameters));
    // Pre-norm: the LayerNorm's mean and rstd, and the GELU input before its bias.
    STATIC_REQUIRE(pre_pair::saved_count == 3);
    STATIC_REQUIRE(std::is_same_v<pre_pair::saved_node<2>, std::remove_cv_t<decltype(matmul(by_layer_norm(x), W1))>>);
    STATIC_REQUIRE(pre_pair::tape_type::is_act<2>);
    // Post-norm: both matmul results (the second one is needed for the norm's input) and the
    // statistics of the norm after the residual add.
    STATIC_REQUIRE(post_pair::saved_count == 4);
    STATIC_REQUIRE(post_pair::tape_type::is_act<0> && post_pair::tape_type::is_act<1>);
    // The backward reads the saved result instead of multiplying again: 4 GEMMs (dY W2ᵀ, the
    // two weights' gradients, dU W1ᵀ), where the derived gradient alone has the forward's too.
    STATIC_REQUIRE(contractions_in<pre_pair::backward_graph>() == 4);
    STATIC_REQUIRE(contractions_in<std::remove_cv_t<decltype(grad(pre, parameters))>>() == 5);
    STATIC_REQUIRE(contractions_in<post_pair::backward_graph>() == 4);
    const std::string text = explain(vjp(pre, parameters));
    CHECK(text.find("the forward saves 2 statistics (in double) and 1 matmul result (in the element type: recomputing "
                    "one is a GEMM)") != std::string::npos);
    CHECK(text.find("saved2 (Act[ff]) = ") != std::string::npos);
}

TEST_CASE("the training pairs of both blocks equal the derived gradients", "[vjp][linear]") {
    const block_data d;
    const auto check = [&](auto block) {
        auto pair = vjp(block, parameters);
        const auto y = pair.forward(x = d.x, W1 = d.w1, b1 = d.bias1, W2 = d.w2, b2 = d.bias2, g = d.gamma, b = d.beta);
        const auto expected = interpret<double>(block, x = d.x, W1 = d.w1, b1 = d.bias1, W2 = d.w2, b2 = d.bias2, g = d.gamma,
                                                b = d.beta);
        CHECK(max_abs_difference(y, expected) < 1e-13);
        const auto gradients =
            pair.backward(x = d.x, W1 = d.w1, b1 = d.bias1, W2 = d.w2, b2 = d.bias2, g = d.gamma, b = d.beta, dy = d.dy);
        CHECK(worst_gradient_error(block, d, d.x, gradients) < 1e-12);
    };
    check(pre);
    check(post);
}

TEST_CASE("tapes keep the saved values of several forwards of one pair apart", "[vjp][linear]") {
    const block_data d;
    auto pair = vjp(pre, parameters);
    using pair_type = decltype(pair);
    typename pair_type::tape_type first, second;
    tensor<double> y1(70, 12), y2(70, 12);
    const auto bind = [&](const tensor<double>& tokens, auto&& f) {
        return f(x = tokens, W1 = d.w1, b1 = d.bias1, W2 = d.w2, b2 = d.bias2, g = d.gamma, b = d.beta);
    };
    bind(d.x, [&](const auto&... bound) { pair.forward(first, into(y1), bound...); });
    bind(d.other_x, [&](const auto&... bound) { pair.forward(second, into(y2), bound...); });
    const auto gradients_at = [&](const auto& kept, const tensor<double>& tokens) {
        std::tuple<tensor<double>, tensor<double>, tensor<double>, tensor<double>, tensor<double>, tensor<double>,
                   tensor<double>>
            out{tensor<double>(70, 12), tensor<double>(1, 12), tensor<double>(1, 12), tensor<double>(12, 20),
                tensor<double>(1, 20), tensor<double>(20, 12), tensor<double>(1, 12)};
        std::apply([&](auto&... o) {
            pair.backward(kept, into(o...), x = tokens, W1 = d.w1, b1 = d.bias1, W2 = d.w2, g = d.gamma, b = d.beta, dy = d.dy);
        }, out);
        return out;
    };
    CHECK(worst_gradient_error(pre, d, d.x, gradients_at(first, d.x)) < 1e-12);
    CHECK(worst_gradient_error(pre, d, d.other_x, gradients_at(second, d.other_x)) < 1e-12);
    // A tape describes its forward's data: other data is refused.
    CHECK_THROWS_WITH(gradients_at(first, d.other_x),
                      "etna: backward reads leaf 'x', which is bound to other data than in the last forward; the saved "
                      "values describe that forward's data: bind the same data, or run forward again");
    typename pair_type::tape_type unused;
    CHECK_THROWS_WITH(gradients_at(unused, d.x), "etna: backward needs the saved values of a forward: call forward first");
}

TEST_CASE("a backward runs in its forward's element type", "[vjp][linear]") {
    const block_data d;
    auto pair = vjp(pre, parameters);
    pair.forward(x = d.x, W1 = d.w1, b1 = d.bias1, W2 = d.w2, b2 = d.bias2, g = d.gamma, b = d.beta);
    const auto to_float = [](const tensor<double>& t) { return tensor<float>::copy_of(t.view()); };
    const auto xf = to_float(d.x), w1 = to_float(d.w1), bias1 = to_float(d.bias1), w2 = to_float(d.w2), gamma = to_float(d.gamma),
               beta = to_float(d.beta), dyf = to_float(d.dy);
    CHECK_THROWS_WITH(pair.backward(x = xf, W1 = w1, b1 = bias1, W2 = w2, g = gamma, b = beta, dy = dyf),
                      "etna: backward runs in the element type of its forward (the saved values are in it)");
}
