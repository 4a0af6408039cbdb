// workspace: a kernel's scratch buffers (statistics, saved values, per-thread partials and
// rows), reused.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>

#include <etna/runtime/tensor.hpp>

namespace etna::cpu {

// Statistics (sums, and every value computed from one that is not an Act value) are held in
// double whatever the element type: a float LayerNorm of data with mean 1e4 and std 1e-2 loses
// 20% of its precision if its mean is rounded to float before x - mean.
using statistic = double;

// Buffers are kept between calls and reallocated only when a shape changes, so a kernel called
// again on data of the same shape allocates nothing.
template <std::size_t N>
struct workspace {
    std::array<tensor<statistic>, N> buffers;   // PerFeature statistics, sums over tokens (1 x D)
    std::array<tensor<statistic>, N> saved;     // PerToken values read by a later nest (T x 1)
    std::array<tensor<statistic>, N> partials;  // per-thread partial sums over tokens (threads x padded D)
    // Per-thread rows of Act values kept between the loops of a nest (threads x padded D), in
    // the element type of the call.
    std::tuple<std::array<tensor<float>, N>, std::array<tensor<double>, N>> kept;

    template <class T>
    std::array<tensor<T>, N>& kept_rows() {
        return std::get<std::array<tensor<T>, N>>(kept);
    }

    template <class T>
    static void fit(tensor<T>& t, std::size_t rows, std::size_t cols) {
        if (t.rows() != rows || t.cols() != cols) t = tensor<T>(rows, cols);
    }
};

}  // namespace etna::cpu
