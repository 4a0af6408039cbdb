// view<T>: a non-owning rows x cols window of row-major data with a row stride (in elements).
#pragma once

#include <cstddef>
#include <type_traits>

#include <fmt/format.h>

#include <etna/runtime/error.hpp>

namespace etna {

template <class T>
concept element = std::is_same_v<std::remove_const_t<T>, float> || std::is_same_v<std::remove_const_t<T>, double>;

// T is float, double, or their const forms (a read-only view). Element (r, c) is at
// data[r * row_stride + c]; rows never overlap (row_stride >= cols), which views check.
template <element T>
class view {
public:
    using value_type = std::remove_const_t<T>;

    constexpr view() = default;

    view(T* data, std::size_t rows, std::size_t cols) : view(data, rows, cols, cols) {}

    view(T* data, std::size_t rows, std::size_t cols, std::size_t row_stride)
        : data_(data), rows_(rows), cols_(cols), row_stride_(row_stride) {
        if (rows > 1 && row_stride < cols)
            throw error(fmt::format("etna: a view's row stride ({}) is smaller than its row length ({}): its rows would overlap",
                                    row_stride, cols));
        if (data == nullptr && rows * cols > 0) throw error("etna: a view of a non-empty shape needs a data pointer");
    }

    // A view of mutable data converts to a read-only one.
    template <class U>
        requires std::is_same_v<const U, T> && (!std::is_same_v<U, T>)
    view(view<U> other) : view(other.data(), other.rows(), other.cols(), other.row_stride()) {}

    [[nodiscard]] T* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
    [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
    [[nodiscard]] std::size_t row_stride() const noexcept { return row_stride_; }
    [[nodiscard]] std::size_t size() const noexcept { return rows_ * cols_; }

    [[nodiscard]] T* row(std::size_t r) const noexcept { return data_ + r * row_stride_; }

    // Rows first .. first + count - 1, all columns: a block of tokens.
    [[nodiscard]] view row_block(std::size_t first, std::size_t count) const {
        if (first > rows_ || count > rows_ - first)
            throw error(fmt::format("etna: rows {} to {} are outside a view of {} rows", first, first + count, rows_));
        return {count == 0 ? data_ : row(first), count, cols_, row_stride_};
    }
    [[nodiscard]] T& operator()(std::size_t r, std::size_t c) const noexcept { return data_[r * row_stride_ + c]; }

private:
    T* data_ = nullptr;
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t row_stride_ = 0;
};

}  // namespace etna
