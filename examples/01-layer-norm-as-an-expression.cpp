// Lesson 01: LayerNorm, RMSNorm and BatchNorm written as expressions, printed, evaluated, and padded.
//
// This lesson writes three normalizations as etna expressions, prints their formulas,
// evaluates them on a small table of activations, and then pads that table with zero tokens
// to show which of them the padding disturbs. It is built as the target
// 01-layer-norm-as-an-expression and run by ctest as tutorial.01-layer-norm-as-an-expression;
// docs/tutorial/01-layer-norm-as-an-expression.md quotes its source and its output.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <etna/etna.hpp>

using namespace etna;

// True when a and b have the same shape and every element has the same bits. Bitwise, not
// within a tolerance: the padding claims below are exact, so they are checked exactly.
bool same_bits(view<const double> a, view<const double> b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            if (std::bit_cast<std::uint64_t>(a(r, c)) != std::bit_cast<std::uint64_t>(b(r, c))) return false;
    return true;
}

// The largest |a - b| over all elements (a and b of the same shape).
double largest_change(view<const double> a, view<const double> b) {
    double largest = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) largest = std::fmax(largest, std::fabs(a(r, c) - b(r, c)));
    return largest;
}

// 1. Leaves.
// A graph starts from named leaves. The name is a template argument, so it is part of the
// leaf's type. Each leaf also has a kind, which says along which axes it varies:
//   x, an input, is Act: T tokens x D features (one row per token);
//   g and b, parameters, are PerFeature: one value per feature, the same for every token.
//! [leaves]
constexpr auto x = input<"x">;  // Act
constexpr auto g = param<"g">;  // PerFeature: the scale gamma
constexpr auto b = param<"b">;  // PerFeature: the shift beta
//! [leaves]

int main() {
    int failures = 0;

    // 2. Kinds and broadcasting.
    // A mean over features (mean_f) removes the feature axis: one value per token, PerToken.
    // A mean over tokens (mean_t) removes the token axis: one value per feature, PerFeature.
    // An elementwise operation takes the union of its operands' axes and repeats each operand
    // along the axes it lacks, so x - mean_f(x) subtracts each token's mean from that token's
    // features. These are compile-time facts, so they are checked at compile time.
    fmt::print("== kinds\n");
    //! [kinds]
    static_assert(std::is_same_v<kind_of<decltype(mean_f(x))>, PerToken>);
    static_assert(std::is_same_v<kind_of<decltype(mean_t(x))>, PerFeature>);
    static_assert(std::is_same_v<kind_of<decltype(x - mean_f(x))>, Act>);
    static_assert(std::is_same_v<kind_of<decltype(constant<1e-5>)>, Scalar>);
    fmt::print("x: {}, g: {}, mask<\"pad\">: {}, constant<1e-5>: {}\n", kind_name(x), kind_name(g),
               kind_name(mask<"pad">), kind_name(constant<1e-5>));
    fmt::print("mean_f(x): {}, mean_t(x): {}, x - mean_f(x): {}, x * g: {}\n", kind_name(mean_f(x)),
               kind_name(mean_t(x)), kind_name(x - mean_f(x)), kind_name(x * g));
    //! [kinds]

    // 3. LayerNorm, by hand and by name.
    // LayerNorm centres each token on its own mean, divides by its own standard deviation, then
    // scales and shifts each feature. Spelled out from primitives it reads as the formula does.
    // The library's layer_norm(x, g, b) composes the same primitives; it is not a kernel of its
    // own. Since an expression's structure is its type, "the same expression" means "the same
    // type", and a static_assert can say so. The graph is an empty constexpr value: all of it
    // lives in the type, none of it in memory.
    fmt::print("\n== LayerNorm\n");
    //! [by_hand]
    constexpr auto centred = x - mean_f(x);
    constexpr auto by_hand = centred * rsqrt(mean_f(centred * centred) + constant<1e-5>) * g + b;
    constexpr auto ln = layer_norm(x, g, b);  // eps = 1e-5 unless given
    static_assert(std::is_same_v<decltype(by_hand), decltype(ln)>);
    static_assert(std::is_empty_v<decltype(ln)>);
    //! [by_hand]

    // Printing an expression prints its formula. `centred` occurs twice in LayerNorm; as both
    // occurrences are one type, they are one node, and the printer binds it once with `let`.
    // The graph has node_count unique nodes: leaves, constants, extents and operations.
    //! [print_layer_norm]
    fmt::print("{}\n", ln);
    fmt::print("({} unique nodes)\n", node_count<decltype(ln)>);
    //! [print_layer_norm]

    // 4. RMSNorm and BatchNorm.
    // RMSNorm drops the centring (and the shift): x * rsqrt(mean_f(x^2) + eps) * g.
    // BatchNorm is LayerNorm with the other axis: its means are over tokens (mean_t), so its
    // statistics are PerFeature, one mean and one variance per feature column.
    fmt::print("\n== RMSNorm and BatchNorm\n");
    //! [other_norms]
    constexpr auto rms = rms_norm(x, g);
    constexpr auto bn = batch_norm(x, g, b);
    fmt::print("{}\n\n{}\n", rms, bn);
    //! [other_norms]

    // 5. Evaluating: the seed's table.
    // Five tokens (T = 5) with three features each (D = 3): the pre-activations z1, z2, z3 of
    // the article's example. gamma = 1 and beta = 0, their initial values, so the outputs are the
    // normalized values themselves. interpret<double> is etna's reference interpreter: it
    // evaluates the graph node by node in double precision. A leaf is bound with `leaf = data`;
    // a std::vector bound to a PerFeature leaf is read as one row.
    fmt::print("\n== the seed's table\n");
    //! [seed_table]
    const tensor<double> z{{7, 5, 4}, {2, 3, 4}, {1, 2, 3}, {7, 5, 6}, {3, 3, 4}};  // T = 5, D = 3
    const std::vector<double> ones{1, 1, 1};
    const std::vector<double> zeros{0, 0, 0};
    //! [seed_table]

    // LayerNorm normalizes each row: every row of the result has mean 0 and variance 1 (up
    // to eps). The rows (2, 3, 4) and (1, 2, 3) differ only by a shift, so they normalize alike.
    // BatchNorm normalizes each column: every column has mean 0 and variance 1.
    //! [evaluate]
    const auto ln_z = interpret<double>(ln, x = z, g = ones, b = zeros);
    const auto bn_z = interpret<double>(bn, x = z, g = ones, b = zeros);
    fmt::print("LayerNorm, each row normalized:\n{:8.4f}\n", ln_z);
    fmt::print("BatchNorm, each column normalized:\n{:8.4f}\n", bn_z);
    //! [evaluate]

    // RMSNorm divides each row by its root mean square without centring it first, so the
    // outputs stay positive here and a row's mean is not 0.
    //! [evaluate_rms]
    fmt::print("RMSNorm, each row scaled:\n{:8.4f}\n", interpret<double>(rms, x = z, g = ones));
    //! [evaluate_rms]

    // 6. Padding.
    // Batches of sentences of different lengths are padded with zero tokens to a common length.
    // Append two to the table: T = 7. LayerNorm of a token reads no other token, so the five
    // real tokens come out bitwise unchanged, and each padding token normalizes only itself
    // (to 0). BatchNorm's means run over all seven tokens, zeros included, so every real
    // token's output moves.
    fmt::print("\n== padding\n");
    //! [padding]
    const tensor<double> z_padded{{7, 5, 4}, {2, 3, 4}, {1, 2, 3}, {7, 5, 6}, {3, 3, 4}, {0, 0, 0}, {0, 0, 0}};
    const auto ln_padded = interpret<double>(ln, x = z_padded, g = ones, b = zeros);
    const auto bn_padded = interpret<double>(bn, x = z_padded, g = ones, b = zeros);
    fmt::print("LayerNorm, padded:\n{:8.4f}\n", ln_padded);
    fmt::print("BatchNorm, padded:\n{:8.4f}\n", bn_padded);
    //! [padding]

    // The claims, checked: the program fails (non-zero exit) if either is false.
    //! [padding_check]
    const bool ln_same = same_bits(ln_padded.row_block(0, z.rows()), ln_z);
    const bool bn_same = same_bits(bn_padded.row_block(0, z.rows()), bn_z);
    fmt::print("LayerNorm of the real tokens: {}\n", ln_same ? "bitwise unchanged" : "CHANGED");
    fmt::print("BatchNorm of the real tokens: {} (largest change {:.4f})\n", bn_same ? "UNCHANGED" : "changed",
               largest_change(bn_padded.row_block(0, z.rows()), bn_z));
    //! [padding_check]
    failures += !ln_same;
    failures += bn_same;

    // 7. Masked BatchNorm.
    // BatchNorm can be repaired by telling it which tokens are real: a PerToken mask, 1 for a
    // real token and 0 for padding. batch_norm_masked takes its means over the masked tokens
    // only, mean_t(x, m) = sum_t(select(m, x, 0)) / sum_t(m). A padding token adds an exact 0 to
    // each sum, so the real tokens come out bitwise as they did without padding. The padding tokens' own
    // outputs are computed but mean nothing. A std::vector bound to a PerToken leaf is read as
    // one column.
    fmt::print("\n== masked BatchNorm\n");
    //! [masked]
    constexpr auto bn_masked = batch_norm_masked(x, mask<"pad">, g, b);
    const std::vector<double> real{1, 1, 1, 1, 1, 0, 0};
    const auto bn_masked_padded = interpret<double>(bn_masked, x = z_padded, mask<"pad"> = real, g = ones, b = zeros);
    fmt::print("{}\n", bn_masked);
    fmt::print("masked BatchNorm, padded:\n{:8.4f}\n", bn_masked_padded);
    const bool masked_same = same_bits(bn_masked_padded.row_block(0, z.rows()), bn_z);
    fmt::print("masked BatchNorm of the real tokens: {}\n", masked_same ? "bitwise unchanged" : "CHANGED");
    //! [masked]
    failures += !masked_same;

    return failures == 0 ? 0 : 1;
}
