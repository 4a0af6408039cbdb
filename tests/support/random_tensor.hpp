// Deterministic random test data: tensors of normal samples from a seed.
#pragma once

#include <cstddef>
#include <cmath>
#include <random>

#include <etna/runtime/tensor.hpp>

namespace etna::testing {

// rows x cols samples of N(mean, stddev^2), the same for the same seed on every platform run
// (std::mt19937_64 is specified; the normal transform is computed here, not by the library).
template <class T = double>
tensor<T> random_tensor(std::size_t rows, std::size_t cols, unsigned seed, double mean = 0.0, double stddev = 1.0) {
    std::mt19937_64 generator(seed);
    tensor<T> t(rows, cols);
    constexpr double two_pi = 6.283185307179586;
    for (std::size_t i = 0; i < t.size(); ++i) {
        // Box-Muller with uniforms in (0, 1].
        const double u1 = (static_cast<double>(generator() >> 11) + 1.0) * 0x1.0p-53;
        const double u2 = static_cast<double>(generator() >> 11) * 0x1.0p-53;
        t.data()[i] = static_cast<T>(mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2));
    }
    return t;
}

}  // namespace etna::testing
