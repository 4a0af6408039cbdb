// workspace: a kernel's scratch buffers (statistics, saved values, per-thread partials), reused.
#pragma once

#include <array>
#include <cstddef>

#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna::cpu {

// Buffers are kept between calls and reallocated only when a shape changes, so a kernel called
// again on data of the same shape allocates nothing.
template <element T, std::size_t N>
struct workspace {
    std::array<tensor<T>, N> buffers;   // PerFeature values materialized in a prologue, sums over tokens (1 x D)
    std::array<tensor<T>, N> saved;     // PerToken values read by a later nest (T x 1)
    std::array<tensor<T>, N> partials;  // per-thread partial sums over tokens (threads x padded D)

    static void fit(tensor<T>& t, std::size_t rows, std::size_t cols) {
        if (t.rows() != rows || t.cols() != cols) t = tensor<T>(rows, cols);
    }
};

}  // namespace etna::cpu
