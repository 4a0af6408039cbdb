// Errors: etna::error for every run-time failure, etna::shape_error for a leaf of the wrong size.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace etna {

// Every exception etna throws derives from etna::error; what() starts with "etna: ".
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A bound tensor whose size disagrees with its leaf's kind or with another leaf. what() reads
//   etna: shape mismatch at leaf 'g' (PerFeature): 5 features, expected 3 (the features of leaf 'x')
// leaf() names the argument that is wrong: a leaf, an output buffer ("output 0"), a model's
// "inputs" or "targets", or a checkpoint's tensor.
class shape_error : public error {
public:
    shape_error(std::string leaf, std::size_t expected, std::size_t actual, const std::string& message)
        : error(message), leaf_(std::move(leaf)), expected_(expected), actual_(actual) {}

    [[nodiscard]] const std::string& leaf() const noexcept { return leaf_; }
    [[nodiscard]] std::size_t expected() const noexcept { return expected_; }
    [[nodiscard]] std::size_t actual() const noexcept { return actual_; }

private:
    std::string leaf_;
    std::size_t expected_;
    std::size_t actual_;
};

}  // namespace etna
