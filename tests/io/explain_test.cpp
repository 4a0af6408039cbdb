// explain(kernel): the printed plans are stable text (golden), and say what the plan does.
#include <string>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto y = input<"y">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto m = mask<"m">;

}  // namespace

TEST_CASE("LayerNorm explains as one nest of three loops reading x once and writing y once", "[explain]") {
    CHECK(explain(compile(layer_norm(x, g, b))) ==
          "kernel: out0 (Act); 1 loop nest over tokens, 3 loops over features\n"
          "nest 0:\n"
          "  parallel for t in [0, T):  // OpenMP, static blocks of tokens\n"
          "    v1 = 0\n"
          "    for j in [0, D):  // loop 0\n"
          "      v1 += x[t,j]\n"
          "    v2 = v1 / D\n"
          "    v5 = 0\n"
          "    for j in [0, D):  // loop 1\n"
          "      v3 = x[t,j] - v2\n"
          "      v5 += v3 * v3\n"
          "    v6 = v5 / D\n"
          "    v7 = v6 + 1e-05\n"
          "    v8 = rsqrt(v7)\n"
          "    for j in [0, D):  // loop 2\n"
          "      out0[t,j] = (x[t,j] - v2) * v8 * g[j] + b[j]\n"
          "memory per token: 8D bytes in float, 16D in double (reads x (nest 0), writes out0)\n");
}

TEST_CASE("masked BatchNorm explains its three nests, merges and per-feature statistics", "[explain]") {
    CHECK(explain(compile(batch_norm_masked(x, m, g, b))) ==
          "kernel: out0 (Act); 3 loop nests over tokens, 1 + 1 + 1 loops over features\n"
          "nest 0:\n"
          "  parallel for t in [0, T):  // OpenMP, static blocks of tokens\n"
          "    for j in [0, D):  // loop 0\n"
          "      v2.partial[thread][j] += select(m[t], x[t,j], 0)\n"
          "    v3.partial[thread] += m[t]\n"
          "nest 1:\n"
          "  for j in [0, D): v2[j] = sum over threads, in order, of v2.partial[thread][j]\n"
          "  v3 = sum over threads, in order, of v3.partial[thread]\n"
          "  for j in [0, D): v4[j] = v2[j] / v3\n"
          "  parallel for t in [0, T):  // OpenMP, static blocks of tokens\n"
          "    for j in [0, D):  // loop 0\n"
          "      v5 = x[t,j] - v4[j]\n"
          "      v8.partial[thread][j] += select(m[t], v5 * v5, 0)\n"
          "nest 2:\n"
          "  for j in [0, D): v8[j] = sum over threads, in order, of v8.partial[thread][j]\n"
          "  for j in [0, D): v9[j] = v8[j] / v3\n"
          "  for j in [0, D): v10[j] = v9[j] + 1e-05\n"
          "  for j in [0, D): v11[j] = rsqrt(v10[j])\n"
          "  parallel for t in [0, T):  // OpenMP, static blocks of tokens\n"
          "    for j in [0, D):  // loop 0\n"
          "      out0[t,j] = (x[t,j] - v4[j]) * v11[j] * g[j] + b[j]\n"
          "memory per token: 16D + 8 bytes in float, 32D + 16 in double (reads x (nest 0), reads m, reads x (nest 1), "
          "reads m, reads x (nest 2), writes out0)\n");
}

TEST_CASE("the residual stream and its norm explain as one nest writing both outputs in the last loop", "[explain]") {
    constexpr auto stream = x + y;
    const std::string text = explain(compile(stream, layer_norm(stream, g, b)));
    CHECK(text.rfind("kernel: out0 (Act), out1 (Act); 1 loop nest over tokens, 3 loops over features\n", 0) == 0);
    CHECK(text.find("    for j in [0, D):  // loop 2\n"
                    "      v1 = x[t,j] + y[t,j]\n"
                    "      out0[t,j] = v1\n"
                    "      out1[t,j] = (v1 - v3) * v9 * g[j] + b[j]\n") != std::string::npos);
    CHECK(text.find("memory per token: 16D bytes in float") != std::string::npos);
}

TEST_CASE("per-token and whole outputs are written after their loops", "[explain]") {
    const std::string text = explain(compile(mean_f(x), sum_t(m)));
    CHECK(text.find("    out0[t] = v2\n") != std::string::npos);
    CHECK(text.find("    v3.partial[thread] += m[t]\n") != std::string::npos);
    CHECK(text.find("out1 = v3\n") != std::string::npos);
}

TEST_CASE("a value kept in a row is computed and stored by its first loop and loaded by the later ones", "[explain]") {
    const std::string text = explain(compile(layer_norm(x + gelu(x), g, b)));
    CHECK(text.find("    for j in [0, D):  // loop 0\n"
                    "      v6 = x[t,j] + 0.5 * x[t,j] * (1 + erf(x[t,j] * 0.7071067811865476))\n"
                    "      row_v6[j] = v6  // kept for the later loops\n"
                    "      v7 += v6\n") != std::string::npos);
    CHECK(text.find("      v9 = row_v6[j] - v8\n") != std::string::npos);
    CHECK(text.find("      out0[t,j] = (row_v6[j] - v8) * v14 * g[j] + b[j]\n") != std::string::npos);
    CHECK(text.find("erf", text.find("loop 1")) == std::string::npos);
}
