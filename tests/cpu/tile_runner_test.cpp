// Kernels with linear layers: tiles of tokens between GEMMs equal the interpreter, forward and
// backward, for every tile size, thread count and odd shape; bitwise repeatable; in place.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <tuple>
#include <utility>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>
#include <support/ffn_block.hpp>
#include <support/random_tensor.hpp>

using namespace etna;
using testing::random_tensor;

using namespace etna::testing::ffn_block;

namespace {
// The gradients with respect to every leaf: dx and dW1, dW2 per tile; db1, db2 sums over
// tokens; dgamma, dbeta computed after the tiles from sums (the whole graph of the plan).
constexpr auto pre_backward = grad(pre, wrt(x, g, b, W1, b1, W2, b2));
constexpr auto post_backward = grad(post, wrt(x, g, b, W1, b1, W2, b2));

template <class T>
struct block_data {
    block_data(std::size_t tokens, std::size_t d, std::size_t ff, unsigned seed)
        : x(copy(random_tensor(tokens, d, seed, 0.5, 1.5))),
          dy(copy(random_tensor(tokens, d, seed + 1))),
          w1(copy(random_tensor(d, ff, seed + 2, 0.0, 1.0 / std::sqrt(double(d))))),
          b1(copy(random_tensor(1, ff, seed + 3, 0.0, 0.1))),
          w2(copy(random_tensor(ff, d, seed + 4, 0.0, 1.0 / std::sqrt(double(ff))))),
          b2(copy(random_tensor(1, d, seed + 5, 0.0, 0.1))),
          g(copy(random_tensor(1, d, seed + 6, 1.0, 0.2))),
          b(copy(random_tensor(1, d, seed + 7, 0.0, 0.2))) {}
    static tensor<T> copy(const tensor<double>& t) { return tensor<T>::copy_of(t.view()); }
    tensor<T> x, dy, w1, b1, w2, b2, g, b;
};

// Every output of a kernel against the interpreter's, within tolerance.
template <class Out, class Expected>
void check_all(const Out& out, const Expected& expected, double tolerance) {
    [&]<std::size_t... O>(std::index_sequence<O...>) {
        const auto check = [&](std::size_t index, double difference) {
            CAPTURE(index);
            CHECK(difference <= tolerance);
        };
        (check(O, max_abs_difference(std::get<O>(out), std::get<O>(expected))), ...);
    }(std::make_index_sequence<std::tuple_size_v<Out>>{});
}

bool same_bits(const tensor<float>& a, const tensor<float>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("a block with an FFN runs in tiles of tokens and equals the interpreter", "[tiled]") {
    // Odd shapes: a token count that is not a multiple of any tile, one feature of ff, tiles of one token.
    struct shape {
        std::size_t tokens, d, ff, tile;
        int threads;
    };
    for (const shape s : {shape{150, 24, 40, 64, 2}, shape{65, 5, 11, 7, 3}, shape{3, 3, 1, 1, 2}, shape{1, 4, 9, 64, 1},
                          shape{0, 4, 9, 16, 2}}) {
        CAPTURE(s.tokens, s.d, s.ff, s.tile, s.threads);
        const block_data<double> data(s.tokens, s.d, s.ff, 11);
        const auto bind = [&](auto&& f) {
            return f(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, b2 = data.b2, g = data.g, b = data.b);
        };
        auto forward = compile(outputs(pre, post));
        forward.set_tile_tokens(s.tile).set_threads(s.threads);
        check_all(bind(forward), bind([](const auto&... a) { return interpret<double>(outputs(pre, post), a...); }), 1e-13);

        const auto bind_backward = [&](auto&& f) {
            return f(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, g = data.g, b = data.b, dy = data.dy);
        };
        auto pre_kernel = compile(pre_backward);
        pre_kernel.set_tile_tokens(s.tile).set_threads(s.threads);
        check_all(bind_backward(pre_kernel), bind_backward([](const auto&... a) { return interpret<double>(pre_backward, a...); }),
                  1e-12);
        auto post_kernel = compile(post_backward);
        post_kernel.set_tile_tokens(s.tile).set_threads(s.threads);
        const auto bind_post_backward = [&](auto&& f) {
            return f(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, b2 = data.b2, g = data.g, dy = data.dy);
        };
        check_all(bind_post_backward(post_kernel), bind_post_backward([](const auto&... a) { return interpret<double>(post_backward, a...); }), 1e-12);
    }
}

TEST_CASE("a float kernel with linear layers stays within float rounding of the double reference", "[tiled]") {
    const block_data<float> data(200, 64, 256, 21);
    const block_data<double> exact(200, 64, 256, 21);
    auto kernel = compile(pre_backward);
    const auto out = kernel(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, g = data.g, b = data.b, dy = data.dy);
    const auto expected = interpret<double>(pre_backward, x = exact.x, W1 = exact.w1, b1 = exact.b1, W2 = exact.w2,
                                            g = exact.g, b = exact.b, dy = exact.dy);
    // Sums of up to 256 products (per element) or 200 tokens (weights' gradients) of O(1) terms
    // in float: 1e-4 absolute is ~30 ulps of the largest; a wrong term is off by 0.01 or more.
    check_all(out, expected, 1e-4);
}

TEST_CASE("a kernel with linear layers gives bitwise the same outputs run after run", "[tiled][determinism]") {
    const block_data<float> data(301, 16, 48, 31);
    auto kernel = compile(pre_backward);
    kernel.set_threads(2).set_tile_tokens(32);
    const auto run = [&] { return kernel(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, g = data.g, b = data.b, dy = data.dy); };
    const auto first = run();
    for (int again = 0; again < 3; ++again) {
        const auto next = run();
        CHECK(same_bits(std::get<0>(next), std::get<0>(first)));
        CHECK(same_bits(std::get<3>(next), std::get<3>(first)));
        CHECK(same_bits(std::get<4>(next), std::get<4>(first)));
    }
}

TEST_CASE("a pre-norm block with an FFN updates its residual stream in place", "[tiled][alias]") {
    const block_data<float> data(100, 16, 40, 41);
    auto kernel = compile(pre);
    kernel.set_tile_tokens(16);
    const tensor<float> expected = kernel(x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, b2 = data.b2, g = data.g, b = data.b);
    tensor<float> stream = data.x;
    kernel(into(stream), x = stream, W1 = data.w1, b1 = data.b1, W2 = data.w2, b2 = data.b2, g = data.g, b = data.b);
    CHECK(same_bits(stream, expected));
}

TEST_CASE("a kernel with linear layers refuses bad buffers with a reason", "[tiled][alias]") {
    const block_data<float> data(10, 4, 6, 51);
    tensor<float> short_of_a_token(9, 4);
    CHECK_THROWS_WITH(compile(pre)(into(short_of_a_token), x = data.x, W1 = data.w1, b1 = data.b1, W2 = data.w2, b2 = data.b2,
                                   g = data.g, b = data.b),
                      "etna: shape mismatch at output 0 (Act): 9 rows, expected 10");
    tensor<float> both(11, 4, 0.0f);
    CHECK_THROWS_WITH(compile(pre)(into(both.row_block(1, 10)), x = both.row_block(0, 10), W1 = data.w1, b1 = data.b1,
                                   W2 = data.w2, b2 = data.b2, g = data.g, b = data.b),
                      "etna: output 0 overlaps leaf 'x'; a kernel with linear layers may overwrite an input only in place "
                      "(exactly the same view) with an output per token");
    tensor<float> weights = data.w1;
    constexpr auto weight_gradient = grad(pre, wrt(W1));
    CHECK_THROWS_WITH(compile(weight_gradient)(into(weights), x = data.x, W1 = weights, b1 = data.b1, W2 = data.w2, g = data.g,
                                               b = data.b, dy = data.dy),
                      "etna: output 0 overlaps leaf 'W1'; a kernel with linear layers may overwrite an input only in "
                      "place (exactly the same view) with an output per token");
    tensor<float> wrong_width(6, 4);
    CHECK_THROWS_AS(compile(pre)(x = data.x, W1 = wrong_width, b1 = data.b1, W2 = data.w2, b2 = data.b2, g = data.g, b = data.b),
                    shape_error);
}

TEST_CASE("explain shows the tiles, each stage's nest and its GEMMs", "[tiled][explain]") {
    const std::string text = explain(compile(pre));
    CHECK(text.find("kernel with linear layers: out0 (Act); tiles of 64 tokens, 2 stages of GEMMs") != std::string::npos);
    CHECK(text.find("GEMM @0 = s0.0 @ W1  // tile of Act[ff]") != std::string::npos);
    CHECK(text.find("GEMM @1 = s1.0 @ W2  // tile of Act") != std::string::npos);
    CHECK(text.find("out0[t,j] = x[t,j] + (@1[t,j] + b2[j])") != std::string::npos);
    // A nest runs on one tile, on the tile's thread; a forward without sums has nothing to merge.
    CHECK(text.find("for t in [0, T):  // the tile's tokens") != std::string::npos);
    CHECK(text.find("parallel for t") == std::string::npos);
    CHECK(text.find("after the tiles") == std::string::npos);
    // The backward: dY W2ᵀ as a tile, and the weights' gradients summed over the tiles.
    const std::string backward = explain(compile(pre_backward));
    CHECK(backward.find("GEMM @0 = dy @ W2ᵀ") != std::string::npos);
    CHECK(backward.find("ᵀ @ dy  // Weight[ff->d], summed over the tiles") != std::string::npos);
    // Sums over tokens are each tile's in its nest, merged over the threads only after the tiles.
    CHECK(backward.find("partial[thread][j] +=") == std::string::npos);
    CHECK(backward.find("after the tiles:\n  out") != std::string::npos);
}
