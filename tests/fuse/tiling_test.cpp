// The tiling pass (fuse/tiles.hpp) on its own: stages, what each stage's nest computes, the
// ranks of the tiles and the sums merged after the tiles; and golden texts of a tiled program
// and of a training pair's split, as explain prints them.
#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/ffn_block.hpp>

using namespace etna;
using namespace etna::testing::ffn_block;

namespace {

// Two linear layers with a ReLU between them: two stages of GEMMs.
constexpr auto two_layers = linear(relu(linear(x, W1, b1)), W2, b2);
using two_layer_tiling = fuse::program<std::remove_cv_t<decltype(two_layers)>>::tiling;

template <class Tiling, class E>
constexpr std::size_t position = index_in<E>(typename Tiling::nodes{});

// The text a tiled program and a training pair print (the golden texts below), line by line
// on failure.
void check_golden(const std::string& printed, const std::string& golden) {
    INFO("printed:\n" << printed << "\nexpected:\n" << golden);
    CHECK(printed == golden);
}

}  // namespace

TEST_CASE("tiling: a contraction's stage is the number of contractions before it", "[tiling]") {
    using T = two_layer_tiling;
    constexpr auto first = matmul(x, W1);
    constexpr auto hidden = relu(first + b1);
    constexpr auto second = matmul(hidden, W2);
    STATIC_REQUIRE(T::stages == 2);
    STATIC_REQUIRE(T::stage_of(position<T, decltype(first)>) == 0);
    STATIC_REQUIRE(T::stage_of(position<T, decltype(second)>) == 1);
    // The matmuls' tiles are numbered in topological order; other nodes have no tile.
    STATIC_REQUIRE(T::matmul_rank[position<T, decltype(first)>] == 0);
    STATIC_REQUIRE(T::matmul_rank[position<T, decltype(second)>] == 1);
    STATIC_REQUIRE(T::matmul_rank[position<T, decltype(hidden)>] == -1);
    // The ReLU is computed by stage 1's nest (the first with a contraction reading it); a leaf
    // or a matmul (filled by a GEMM) is computed by none.
    STATIC_REQUIRE(T::computed_in_stage[position<T, decltype(hidden)>] == 1);
    STATIC_REQUIRE(T::computed_in_stage[position<T, decltype(first)>] == -1);
    STATIC_REQUIRE(T::computed_in_stage[position<T, std::remove_cv_t<decltype(x)>>] == -1);
    STATIC_REQUIRE(T::stage_outputs<0>().size() == 0);
    STATIC_REQUIRE(T::stage_outputs<1>().size() == 1);
    // Stage 1's nest reads the first matmul as its tile leaf @0.
    using stage1 = decltype(fuse::stage_graph<T, 1>());
    STATIC_REQUIRE(std::is_same_v<stage1, decltype(outputs(relu(fuse::tile_leaf_t<0, decltype(first)>{} + b1)))>);
    STATIC_REQUIRE(std::is_same_v<decltype(fuse::stage_graph<T, 0>()), void*>);
    STATIC_REQUIRE(std::is_same_v<decltype(fuse::whole_graph<T>()), void*>);
}

TEST_CASE("tiling: weight gradients are outer sums merged after the tiles, sums over tokens too", "[tiling]") {
    constexpr auto backward = grad(relu(linear(x, W1, b1)), wrt(x, W1, b1));
    using T = fuse::program<std::remove_cv_t<decltype(backward)>>::tiling;
    STATIC_REQUIRE(T::stages == 2);  // the forward's matmul, recomputed; then dx's and dW1's
    STATIC_REQUIRE(T::is_output_with_tokens(0));  // dx
    STATIC_REQUIRE(T::is_weight_output(1));       // dW1 = outer_sum(x, ...)
    STATIC_REQUIRE(T::is_sum_output(2));          // db1 = sum_t(...)
    STATIC_REQUIRE(!T::is_whole_output(2));
    std::size_t sums = 0;
    for (const bool needed : T::token_sum) sums += needed;
    CHECK(sums == 1);  // db1's sum, written per tile by the last nest
}

TEST_CASE("tiling: a sum over tokens read by an output without tokens is computed after the tiles", "[tiling]") {
    constexpr auto scaled = outputs(linear(x, W1, b1), sum_t(matmul(x, W1)) * constant<2.0>);
    using T = fuse::program<std::remove_cv_t<decltype(scaled)>>::tiling;
    STATIC_REQUIRE(T::is_whole_output(1));
    // The whole graph reads the merged sum as a statistic leaf.
    using whole = decltype(fuse::whole_graph<T>());
    STATIC_REQUIRE(!std::is_same_v<whole, void*>);
    STATIC_REQUIRE(fuse::is_token_sum_leaf<std::remove_cv_t<decltype(+boost::hana::at_c<0>(leaves_of(whole{})))>::type>);
}

TEST_CASE("golden: the program of two linear layers", "[tiling][golden]") {
    check_golden(explain(compile(two_layers)), R"(kernel with linear layers: out0 (Act); tiles of 64 tokens, 2 stages of GEMMs
parallel for each tile of tokens:  // OpenMP, static blocks of tiles; T below is the tile's tokens
  stage 0:
    GEMM @0 = x @ W1  // tile of Act[ff]
  stage 1:
    nest writing tiles s1.0, s1.1, ... (its out0, out1, ...):
      kernel: out0 (Act); 1 loop nest over tokens, 1 loop over features
      nest 0:
        for t in [0, T):  // the tile's tokens
          for j in [0, D[ff]):  // loop 0
            out0[t,j] = max(@0[t,j] + b1[j], 0)
      traffic (tiles included) per token: 8D bytes in float, 16D in double (reads @0 (nest 0), writes out0)
    GEMM @1 = s1.0 @ W2  // tile of Act
  last nest (the outputs per token, then each tile's sums over tokens):
    kernel: out0 (Act); 1 loop nest over tokens, 1 loop over features
    nest 0:
      for t in [0, T):  // the tile's tokens
        for j in [0, D):  // loop 0
          out0[t,j] = @1[t,j] + b2[j]
    traffic (tiles included) per token: 8D bytes in float, 16D in double (reads @1 (nest 0), writes out0)
)");
}

TEST_CASE("golden: a training pair's split and its two programs", "[tiling][golden]") {
    check_golden(explain(vjp(relu(linear(x, W1, b1)), wrt(x, W1, b1))), R"(training pair: the forward saves 0 statistics (in double) and 1 matmul result (in the element type: recomputing one is a GEMM) for the backward, which recomputes every other Act value it reads
  saved0 (Act[ff]) = matmul(x, W1)
forward (out1 = saved0) kernel with linear layers: out0 (Act), out1 (Act); tiles of 64 tokens, 1 stage of GEMMs
parallel for each tile of tokens:  // OpenMP, static blocks of tiles; T below is the tile's tokens
  stage 0:
    GEMM @0 = x @ W1  // tile of Act[ff]
  last nest (the outputs per token, then each tile's sums over tokens):
    kernel: out0 (Act), out1 (Act); 1 loop nest over tokens, 1 loop over features
    nest 0:
      for t in [0, T):  // the tile's tokens
        for j in [0, D[ff]):  // loop 0
          out0[t,j] = max(@0[t,j] + b1[j], 0)
          out1[t,j] = @0[t,j]
    traffic (tiles included) per token: 12D bytes in float, 24D in double (reads @0 (nest 0), writes out0, writes out1)
backward kernel with linear layers: out0 (Act), out1 (Weight), out2 (PerFeature); tiles of 64 tokens, 1 stage of GEMMs
parallel for each tile of tokens:  // OpenMP, static blocks of tiles; T below is the tile's tokens
  stage 0:
    nest writing tiles s0.0, s0.1, ... (its out0, out1, ...):
      kernel: out0 (Act); 1 loop nest over tokens, 1 loop over features
      nest 0:
        for t in [0, T):  // the tile's tokens
          for j in [0, D[ff]):  // loop 0
            out0[t,j] = select(0 > saved0[t,j] + b1[j], 0, dy[t,j])
      traffic (tiles included) per token: 12D bytes in float, 24D in double (reads saved0 (nest 0), reads dy (nest 0), writes out0)
    GEMM @0 = s0.0 @ W1ᵀ  // tile of Act
    GEMM v10.partial[thread] += xᵀ @ s0.0  // Weight[d->ff], summed over the tiles
  last nest (the outputs per token, then each tile's sums over tokens):
    kernel: out0 (Act), out1 (PerFeature); 1 loop nest over tokens, 1 loop over features
    nest 0:
      for t in [0, T):  // the tile's tokens
        for j in [0, D):  // loop 0
          out0[t,j] = @0[t,j]
        for j in [0, D[ff]):  // loop 0
          v4[j] += select(0 > saved0[t,j] + b1[j], 0, dy[t,j])
    out1[j] = v4[j]
    traffic (tiles included) per token: 16D bytes in float, 32D in double (reads @0 (nest 0), reads saved0 (nest 0), reads dy (nest 0), writes out0)
after the tiles:
  out1 = sum over threads, in order, of v10.partial[thread]
  out2 = sum over threads, in order, of each thread's tiles' sums (added in tile order)
)");
}
