// Determinism: the same inputs and thread count give bitwise the same outputs, run after run.
#include <cstddef>
#include <cstring>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

bool same_bits(const tensor<float>& a, const tensor<float>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct data {
    // Enough tokens that every thread has many, sums over tokens of both signs.
    tensor<float> x = tensor<float>::copy_of(testing::random_tensor(1013, 77, 1, 0.3, 2.0).view());
    tensor<float> g = tensor<float>::copy_of(testing::random_tensor(1, 77, 2).view());
    tensor<float> b = tensor<float>::copy_of(testing::random_tensor(1, 77, 3).view());
};

template <class G>
void check_repeatable(G graph, int threads) {
    const data d;
    auto kernel = compile(graph);
    kernel.set_threads(threads);
    const tensor<float> first = kernel(x = d.x, g = d.g, b = d.b);
    for (int run = 0; run < 5; ++run) CHECK(same_bits(kernel(x = d.x, g = d.g, b = d.b), first));
}

}  // namespace

TEST_CASE("sums over tokens merge per-thread partials in a fixed order: runs agree bitwise", "[determinism]") {
    for (const int threads : {1, 2, 3}) {
        CAPTURE(threads);
        check_repeatable(batch_norm(x, g, b), threads);
        check_repeatable(sum_t(x * g) * b, threads);
    }
}

TEST_CASE("sums over features do not depend on the thread count at all", "[determinism]") {
    // Each token is summed by one thread, lane by lane, combined in a fixed order.
    const data d;
    auto kernel = compile(layer_norm(x, g, b));
    const tensor<float> one = kernel.set_threads(1)(x = d.x, g = d.g, b = d.b);
    const tensor<float> two = kernel.set_threads(2)(x = d.x, g = d.g, b = d.b);
    const tensor<float> three = kernel.set_threads(3)(x = d.x, g = d.g, b = d.b);
    CHECK(same_bits(one, two));
    CHECK(same_bits(one, three));
}

TEST_CASE("a kernel refuses fewer than one thread", "[determinism]") {
    CHECK_THROWS_WITH(compile(x * g).set_threads(0), "etna: a kernel needs at least one thread, not 0");
}
