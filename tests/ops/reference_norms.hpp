// Reference norms and activations by plain loops in long double, independent of etna: the ops tests' oracle.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <vector>

#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>
#include <support/random_tensor.hpp>

namespace etna::testing {

// The seed text's batch: five tokens (rows) of three pre-activations z1 z2 z3 (columns).
inline tensor<double> seed_table() { return {{7, 5, 4}, {2, 3, 4}, {1, 2, 3}, {7, 5, 6}, {3, 3, 4}}; }

using values = std::vector<long double>;

struct moments {
    long double mean;
    long double variance;  // biased: divided by the count
};

// Two passes: the mean, then the mean square of the centred values.
inline moments moments_of(const values& v) {
    long double sum = 0;
    for (const long double e : v) sum += e;
    const long double mean = sum / static_cast<long double>(v.size());
    long double squares = 0;
    for (const long double e : v) squares += (e - mean) * (e - mean);
    return {mean, squares / static_cast<long double>(v.size())};
}

template <class T>
values row_of(const tensor<T>& t, std::size_t r) {
    values v(t.cols());
    for (std::size_t c = 0; c < t.cols(); ++c) v[c] = t(r, c);
    return v;
}

template <class T>
values column_of(const tensor<T>& t, std::size_t c) {
    values v(t.rows());
    for (std::size_t r = 0; r < t.rows(); ++r) v[r] = t(r, c);
    return v;
}

// Which values share statistics: LayerNorm and RMSNorm a token's features (one row), BatchNorm a
// feature's tokens (one column). This is the only difference between them, as in the seed text.
enum class statistics_over { features, tokens };

// (v - mean) / sqrt(var + eps) when centring, v / sqrt(mean(v^2) + eps) (RMSNorm) otherwise.
inline values normalized(const values& v, bool centre, double eps) {
    const moments m = moments_of(v);
    const long double shift = centre ? m.mean : 0.0L;
    const long double spread = centre ? m.variance : m.variance + m.mean * m.mean;  // mean(v^2) = var + mean^2
    values out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = (v[i] - shift) / std::sqrt(spread + static_cast<long double>(eps));
    return out;
}

// normalized(line) * gamma + beta for every row (or column) of x; gamma and beta are per feature.
inline tensor<double> normalize_reference(const tensor<double>& x, statistics_over over, bool centre,
                                          const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
    tensor<double> y(x.rows(), x.cols());
    const bool rows = over == statistics_over::features;
    for (std::size_t line = 0; line < (rows ? x.rows() : x.cols()); ++line) {
        const values out = normalized(rows ? row_of(x, line) : column_of(x, line), centre, eps);
        for (std::size_t i = 0; i < out.size(); ++i) {
            const std::size_t r = rows ? line : i;
            const std::size_t c = rows ? i : line;
            y(r, c) = static_cast<double>(out[i] * gamma[c] + beta[c]);
        }
    }
    return y;
}

inline tensor<double> layer_norm_reference(const tensor<double>& x, const std::vector<double>& gamma,
                                           const std::vector<double>& beta, double eps = 1e-5) {
    return normalize_reference(x, statistics_over::features, true, gamma, beta, eps);
}

inline tensor<double> rms_norm_reference(const tensor<double>& x, const std::vector<double>& gamma, double eps = 1e-5) {
    return normalize_reference(x, statistics_over::features, false, gamma, std::vector<double>(gamma.size(), 0.0), eps);
}

inline tensor<double> batch_norm_reference(const tensor<double>& x, const std::vector<double>& gamma,
                                           const std::vector<double>& beta, double eps = 1e-5) {
    return normalize_reference(x, statistics_over::tokens, true, gamma, beta, eps);
}

// The activations' textbook formulas, in long double.
namespace activation {

inline long double sigmoid(long double x) { return 1.0L / (1.0L + std::exp(-x)); }
inline long double relu(long double x) { return std::isnan(x) ? x : std::max(x, 0.0L); }
inline long double silu(long double x) { return x * sigmoid(x); }
inline long double gelu(long double x) { return 0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L))); }
inline long double gelu_tanh(long double x) {
    const long double pi = 3.141592653589793238462643383279502884L;
    return 0.5L * x * (1.0L + std::tanh(std::sqrt(2.0L / pi) * (x + 0.044715L * x * x * x)));
}

}  // namespace activation

// f applied to every element of t, computed in long double and rounded once.
template <class F>
tensor<double> map_reference(const tensor<double>& t, F f) {
    tensor<double> out(t.rows(), t.cols());
    for (std::size_t i = 0; i < t.size(); ++i) out.data()[i] = static_cast<double>(f(static_cast<long double>(t.data()[i])));
    return out;
}

inline tensor<double> sum_reference(const tensor<double>& a, const tensor<double>& b) {
    tensor<double> out(a.rows(), a.cols());
    for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = a.data()[i] + b.data()[i];
    return out;
}

// n normal samples as a vector of T, e.g. gamma or beta (PerFeature leaves bind to vectors).
template <class T = double>
std::vector<T> random_vector(std::size_t n, unsigned seed, double mean = 0.0, double stddev = 1.0) {
    const tensor<double> t = random_tensor<double>(1, n, seed, mean, stddev);
    return std::vector<T>(t.data(), t.data() + t.size());
}

// The largest |a - b| over all elements; infinity when the shapes differ or an element is NaN.
template <class T>
double max_abs_difference(const tensor<T>& a, const tensor<T>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return std::numeric_limits<double>::infinity();
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i]));
        if (!(d <= worst)) worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
    }
    return worst;
}

// Same shape and the same bytes: bitwise equality, stricter than == (it tells -0 from +0).
template <class T>
bool same_bits(const tensor<T>& a, const tensor<T>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace etna::testing
