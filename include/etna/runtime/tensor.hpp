// tensor<T>: an owning, contiguous, row-major rows x cols array of float or double.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#include <fmt/format.h>

#include <etna/runtime/error.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

// Storage is aligned to 64 bytes (a cache line, and the widest vector register) so that
// kernels may use aligned loads on the first row.
template <element T>
class tensor {
    static_assert(!std::is_const_v<T>, "etna: a tensor owns its elements; use view<const T> for read-only access");

public:
    using value_type = T;
    static constexpr std::size_t alignment = 64;

    tensor() = default;

    // The elements are left uninitialized.
    tensor(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), data_(allocate(rows, cols)) {}

    tensor(std::size_t rows, std::size_t cols, T fill) : tensor(rows, cols) { std::fill_n(data(), size(), fill); }

    // tensor<double>{{1, 2, 3}, {4, 5, 6}}: one braced list per row, all of one length.
    tensor(std::initializer_list<std::initializer_list<T>> rows)
        : tensor(rows.size(), rows.size() == 0 ? 0 : rows.begin()->size()) {
        std::size_t r = 0;
        for (const auto& row : rows) {
            if (row.size() != cols_)
                throw error(fmt::format("etna: tensor rows differ in length: row 0 has {} values, row {} has {}", cols_, r,
                                        row.size()));
            std::copy(row.begin(), row.end(), data() + r++ * cols_);
        }
    }

    tensor(const tensor& other) : tensor(other.rows_, other.cols_) { std::copy_n(other.data(), size(), data()); }
    // A moved-from tensor is empty (0 x 0), never a shape without storage.
    tensor(tensor&& other) noexcept
        : rows_(std::exchange(other.rows_, 0)), cols_(std::exchange(other.cols_, 0)), data_(std::move(other.data_)) {}
    tensor& operator=(const tensor& other) {
        if (this != &other) *this = tensor(other);
        return *this;
    }
    tensor& operator=(tensor&& other) noexcept {
        rows_ = std::exchange(other.rows_, 0);
        cols_ = std::exchange(other.cols_, 0);
        data_ = std::move(other.data_);
        return *this;
    }

    // A copy of any view's elements, converted to T.
    template <element U>
    static tensor copy_of(view<U> source) {
        tensor result(source.rows(), source.cols());
        for (std::size_t r = 0; r < source.rows(); ++r) std::copy_n(source.row(r), source.cols(), result.data() + r * source.cols());
        return result;
    }

    [[nodiscard]] T* data() noexcept { return data_.get(); }
    [[nodiscard]] const T* data() const noexcept { return data_.get(); }
    [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
    [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
    [[nodiscard]] std::size_t size() const noexcept { return rows_ * cols_; }

    [[nodiscard]] T* row(std::size_t r) noexcept { return data() + r * cols_; }
    [[nodiscard]] const T* row(std::size_t r) const noexcept { return data() + r * cols_; }
    [[nodiscard]] T& operator()(std::size_t r, std::size_t c) noexcept { return data()[r * cols_ + c]; }
    [[nodiscard]] const T& operator()(std::size_t r, std::size_t c) const noexcept { return data()[r * cols_ + c]; }

    [[nodiscard]] etna::view<T> view() noexcept { return {data(), rows_, cols_}; }
    [[nodiscard]] etna::view<const T> view() const noexcept { return {data(), rows_, cols_}; }
    [[nodiscard]] etna::view<T> row_block(std::size_t first, std::size_t count) { return view().row_block(first, count); }
    [[nodiscard]] etna::view<const T> row_block(std::size_t first, std::size_t count) const {
        return view().row_block(first, count);
    }
    operator etna::view<T>() noexcept { return view(); }
    operator etna::view<const T>() const noexcept { return view(); }

private:
    struct aligned_delete {
        void operator()(T* p) const noexcept { ::operator delete[](p, std::align_val_t{alignment}); }
    };
    using storage = std::unique_ptr<T[], aligned_delete>;

    static storage allocate(std::size_t rows, std::size_t cols) {
        if (rows == 0 || cols == 0) return nullptr;
        if (cols > std::numeric_limits<std::size_t>::max() / sizeof(T) / rows)
            throw error(fmt::format("etna: a tensor of {} x {} elements is too large to allocate", rows, cols));
        return storage(static_cast<T*>(::operator new[](rows * cols * sizeof(T), std::align_val_t{alignment})));
    }

    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    storage data_;
};

}  // namespace etna
