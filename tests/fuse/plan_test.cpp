// Plans: the nests and loops each graph gets, what is saved and what may be written in place.
#include <cstddef>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto pad = mask<"pad">;

constexpr auto ln = [](auto v) { return layer_norm(v, g, b); };
constexpr auto rms = [](auto v) { return rms_norm(v, g); };

template <class G>
constexpr auto plan_for(G) {
    return fuse::plan_of<G>;
}

// Loop nests over tokens, and the loops over features of the first one.
template <class G>
constexpr bool shape_is(G, int nests, int loops_of_first) {
    constexpr auto p = fuse::plan_of<G>;
    return p.loop_nests() == nests && p.loops[0] == loops_of_first;
}

// No Act value but an output is ever stored: nothing is saved that varies per feature.
template <class G>
constexpr bool saves_only_per_token(G) {
    constexpr auto p = fuse::plan_of<G>;
    for (std::size_t i = 0; i < p.node_count; ++i)
        if (p.saved[i] && p.info[i].features) return false;
    return true;
}

}  // namespace

TEST_CASE("per-token norms and blocks plan to one nest: LayerNorm three loops, RMSNorm two", "[plan]") {
    STATIC_REQUIRE(shape_is(layer_norm(x, g, b), 1, 3));
    STATIC_REQUIRE(shape_is(rms_norm(x, g), 1, 2));
    STATIC_REQUIRE(shape_is(pre_norm(x, ln, [](auto h) { return gelu(h); }), 1, 3));
    STATIC_REQUIRE(shape_is(post_norm(x, ln, [](auto h) { return gelu(h); }), 1, 3));
    STATIC_REQUIRE(shape_is(pre_norm(x, rms, [](auto h) { return silu(h); }), 1, 2));
    STATIC_REQUIRE(shape_is(post_norm(x, rms, [](auto h) { return relu(h); }), 1, 2));
}

TEST_CASE("the pre-norm residual stream and its LayerNorm come from one nest", "[plan]") {
    constexpr auto stream = x + y;
    STATIC_REQUIRE(shape_is(outputs(stream, layer_norm(stream, g, b)), 1, 3));
}

TEST_CASE("a training forward writes the output and the per-token statistics in one nest", "[plan]") {
    constexpr auto mean = mean_f(x);
    constexpr auto rstd = rsqrt(mean_f(square(x - mean)) + constant<1e-5>);
    STATIC_REQUIRE(shape_is(outputs(layer_norm(x, g, b), mean, rstd), 1, 3));
}

TEST_CASE("BatchNorm plans to three nests: the mean, the two-pass variance, the output", "[plan]") {
    // The variance is the mean square of the centred values, which need the mean first.
    STATIC_REQUIRE(shape_is(batch_norm(x, g, b), 3, 1));
    STATIC_REQUIRE(shape_is(batch_norm_masked(x, pad, g, b), 3, 1));
    // A one-pass variance would need two, at the price of cancellation (tests/ops/norms_test.cpp).
    constexpr auto one_pass = (x - mean_t(x)) * rsqrt(mean_t(x * x) - square(mean_t(x)) + constant<1e-5>);
    STATIC_REQUIRE(shape_is(one_pass, 2, 1));
}

TEST_CASE("a LayerNorm of a BatchNorm saves only per-token values across nests", "[plan]") {
    constexpr auto both = batch_norm(layer_norm(x, g, b), g, b);
    STATIC_REQUIRE(saves_only_per_token(both));
    STATIC_REQUIRE(plan_for(both).loop_nests() == 3);
    STATIC_REQUIRE(saves_only_per_token(outputs(layer_norm(x, g, b), batch_norm(x, g, b))));
}

TEST_CASE("sums of per-feature and per-token values need no loop over features", "[plan]") {
    STATIC_REQUIRE(plan_for(sum_t(pad)).loop_nests() == 1);
    STATIC_REQUIRE(plan_for(sum_t(pad)).loops[0] == 0);
    STATIC_REQUIRE(plan_for(sum_f(g) * g).loop_nests() == 0);
}

TEST_CASE("an output may overwrite an input that no later nest reads", "[plan][alias]") {
    constexpr std::size_t x_slot = 0;  // x is the first node of each graph below
    // x += F(LN(x)): the output is written in the last loop, after every read of the token's row.
    constexpr auto residual_update = plan_for(pre_norm(x, ln, [](auto h) { return gelu(h); }));
    STATIC_REQUIRE(residual_update.in_place[0][x_slot]);
    // x * 2 is written in nest 0, and BatchNorm reads x again in nests 1 and 2.
    constexpr auto read_again = plan_for(outputs(x * constant<2.0>, batch_norm(x, g, b)));
    STATIC_REQUIRE(!read_again.in_place[0][x_slot]);
    STATIC_REQUIRE(read_again.in_place[1][x_slot]);
}

namespace {

// The Act values nest 0 keeps in rows, and the loop that keeps each (-1: none there).
template <class G>
constexpr int kept_count(G) {
    constexpr auto p = fuse::plan_of<G>;
    int count = 0;
    for (std::size_t i = 0; i < p.node_count; ++i) count += p.kept_at[0][i] >= 0;
    return count;
}
template <class G, class E>
constexpr int kept_loop(G, E) {
    return fuse::plan_of<G>.kept_at[0][index_in<E>(topological_nodes_t<G>{})];
}

}  // namespace

TEST_CASE("an Act value dearer to recompute than to keep is kept in a row by its first loop", "[plan][keep]") {
    // Post-norm: h = x + gelu(x), an erf per element, is needed by the three loops of LN(h).
    constexpr auto h = x + gelu(x);
    STATIC_REQUIRE(kept_loop(layer_norm(h, g, b), h) == 0);
    STATIC_REQUIRE(kept_count(layer_norm(h, g, b)) == 1);  // h - mean is cheap again, from the row
    // x - mean is one subtraction: recomputed. gelu(LN(x)) is needed by the last loop only.
    STATIC_REQUIRE(kept_count(layer_norm(x, g, b)) == 0);
    STATIC_REQUIRE(kept_count(pre_norm(x, ln, [](auto v) { return gelu(v); })) == 0);
    // The derived backward of the post-norm block keeps the erf of the forward's GELU for its write loop.
    using backward = decltype(vjp(layer_norm(h, g, b), wrt(x, g, b)))::backward_graph;
    STATIC_REQUIRE(kept_count(backward{}) == 1);
}
