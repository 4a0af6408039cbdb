// Zero-padded tokens: LayerNorm and masked BatchNorm ignore them bitwise, plain BatchNorm does not.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

#include "reference_norms.hpp"

using namespace etna;
using testing::max_abs_difference;
using testing::same_bits;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;
constexpr auto pad = mask<"pad">;
constexpr auto ln = layer_norm(x, g, b);
constexpr auto bn = batch_norm(x, g, b);
constexpr auto bn_masked = batch_norm_masked(x, pad, g, b);

// One padding token, two, and many more than the real ones (most of a padded batch, as in the seed text).
constexpr std::size_t pad_counts[] = {1, 2, 300};

// A batch of real tokens with its norm parameters, in the element type of the evaluation.
template <class T>
struct batch {
    std::string name;
    tensor<T> tokens;
    std::vector<T> gamma;
    std::vector<T> beta;
};

// The seed table (5 x 3, gamma = 1, beta = 0) and random data: 16 tokens, an odd width of 7, mean 2
// so that padding zeros lie far from the real values, and random gamma and beta.
template <class T>
std::vector<batch<T>> batches() {
    const tensor<double> random = testing::random_tensor<double>(16, 7, 11, 2.0, 1.0);
    return {{"seed table", tensor<T>::copy_of(testing::seed_table().view()), {1, 1, 1}, {0, 0, 0}},
            {"random 16 x 7", tensor<T>::copy_of(random.view()), testing::random_vector<T>(7, 12, 1.0, 0.5),
             testing::random_vector<T>(7, 13)}};
}

// The tokens followed by `count` padding tokens, zero unless told otherwise.
template <class T>
tensor<T> padded(const tensor<T>& tokens, std::size_t count, T fill = T(0)) {
    tensor<T> out(tokens.rows() + count, tokens.cols(), fill);
    for (std::size_t i = 0; i < tokens.size(); ++i) out.data()[i] = tokens.data()[i];
    return out;
}

// Rows first .. first + count - 1 of t, such as the outputs of the real tokens.
template <class T>
tensor<T> rows_of(const tensor<T>& t, std::size_t first, std::size_t count) {
    return tensor<T>::copy_of(view<const T>(t.data() + first * t.cols(), count, t.cols()));
}

// 1 for each of the `real` tokens, 0 for each of the `padding` ones.
template <class T>
std::vector<T> padding_mask(std::size_t real, std::size_t padding) {
    std::vector<T> m(real + padding, T(0));
    std::fill_n(m.begin(), real, T(1));
    return m;
}

template <class T>
void check_layer_norm_ignores_padding() {
    for (const batch<T>& data : batches<T>()) {
        const tensor<T> alone = interpret<T>(ln, x = data.tokens, g = data.gamma, b = data.beta);
        for (const std::size_t count : pad_counts) {
            CAPTURE(data.name, count);
            const tensor<T> with_padding = padded(data.tokens, count);
            const tensor<T> y = interpret<T>(ln, x = with_padding, g = data.gamma, b = data.beta);
            CHECK(same_bits(rows_of(y, 0, data.tokens.rows()), alone));
        }
    }
}

template <class T>
void check_masked_batch_norm_ignores_padding(T fill = T(0)) {
    for (const batch<T>& data : batches<T>()) {
        const tensor<T> alone = interpret<T>(bn, x = data.tokens, g = data.gamma, b = data.beta);
        for (const std::size_t count : pad_counts) {
            CAPTURE(data.name, count, fill);
            const tensor<T> with_padding = padded(data.tokens, count, fill);
            const std::vector<T> m = padding_mask<T>(data.tokens.rows(), count);
            const tensor<T> y = interpret<T>(bn_masked, x = with_padding, pad = m, g = data.gamma, b = data.beta);
            CHECK(same_bits(rows_of(y, 0, data.tokens.rows()), alone));
        }
    }
}

}  // namespace

TEST_CASE("zero-padded tokens leave LayerNorm of the real tokens bitwise unchanged", "[padding]") {
    SECTION("double (the interpreter)") { check_layer_norm_ignores_padding<double>(); }
    SECTION("float (eager evaluation)") { check_layer_norm_ignores_padding<float>(); }
}

TEST_CASE("a zero-padded token's LayerNorm is exactly beta: it only normalizes itself", "[padding]") {
    // Its centred values are 0, so 0 * rsqrt(0 + eps) * gamma + beta = beta, with no NaN from 0 / 0.
    for (const batch<double>& data : batches<double>()) {
        CAPTURE(data.name);
        const std::size_t real = data.tokens.rows();
        const tensor<double> with_padding = padded(data.tokens, 2);
        const tensor<double> y = interpret<double>(ln, x = with_padding, g = data.gamma, b = data.beta);
        const tensor<double> beta_row = tensor<double>::copy_of(view<const double>(data.beta.data(), 1, data.beta.size()));
        CHECK(same_bits(rows_of(y, real, 1), beta_row));
        CHECK(same_bits(rows_of(y, real + 1, 1), beta_row));
    }
}

TEST_CASE("zero-padded tokens change plain BatchNorm of the real tokens", "[padding]") {
    // The zeros enter every column's mean and variance. The smallest change here (one padding token
    // among 16 of mean 2) is ~0.7; rounding differences would be ~1e-15, so 0.1 is a clear margin.
    constexpr double margin = 0.1;
    for (const batch<double>& data : batches<double>()) {
        const tensor<double> alone = interpret<double>(bn, x = data.tokens, g = data.gamma, b = data.beta);
        for (const std::size_t count : pad_counts) {
            CAPTURE(data.name, count);
            const tensor<double> with_padding = padded(data.tokens, count);
            const tensor<double> y = interpret<double>(bn, x = with_padding, g = data.gamma, b = data.beta);
            CHECK(max_abs_difference(rows_of(y, 0, data.tokens.rows()), alone) > margin);
        }
    }
}

TEST_CASE("masked BatchNorm of the real tokens is bitwise unchanged by zero-padded tokens", "[padding]") {
    // Compared with plain BatchNorm of the unpadded tokens: the padding adds exact zeros to each
    // sum, and the mask's sum is the exact count, so the statistics have the same bits.
    SECTION("double (the interpreter)") { check_masked_batch_norm_ignores_padding<double>(); }
    SECTION("float (eager evaluation)") { check_masked_batch_norm_ignores_padding<float>(); }
}

TEST_CASE("masked BatchNorm of the real tokens is bitwise unchanged by padding that holds NaN or inf", "[padding]") {
    // Padding buffers are often uninitialized or NaN-filled on purpose. A masked mean selects the
    // real tokens instead of multiplying by the mask, so NaN * 0 never enters a sum.
    SECTION("NaN") { check_masked_batch_norm_ignores_padding<double>(std::numeric_limits<double>::quiet_NaN()); }
    SECTION("inf") { check_masked_batch_norm_ignores_padding<float>(std::numeric_limits<float>::infinity()); }
}
