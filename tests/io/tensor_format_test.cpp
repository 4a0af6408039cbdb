// Tensor printing: one row per line, the format spec applied to each element.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>

using etna::tensor;
using etna::view;

TEST_CASE("a tensor prints one row per line with the element spec", "[tensor_format]") {
    const tensor<double> t{{1.0, -2.5}, {3.25, 4.0}};
    CHECK(fmt::format("{:6.2f}", t) == "[  1.00  -2.50\n   3.25   4.00]");
    CHECK(fmt::format("{}", t) == "[1 -2.5\n 3.25 4]");
}

TEST_CASE("a strided view prints only its window", "[tensor_format]") {
    const tensor<float> t{{1, 2, 3}, {4, 5, 6}};
    const view<const float> left(t.data(), 2, 2, 3);
    CHECK(fmt::format("{:.0f}", left) == "[1 2\n 4 5]");
}

TEST_CASE("an empty tensor prints as []", "[tensor_format]") {
    CHECK(fmt::format("{}", tensor<double>(0, 3)) == "[]");
}
