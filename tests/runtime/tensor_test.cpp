// Tensors and views: construction, deep copies, alignment, conversions, strides and their checks.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>

using namespace etna;

namespace {

bool is_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// Element (r, c) of a rows x cols tensor filled by fill_distinct: distinct, exact in float too.
double distinct_value(std::size_t r, std::size_t c) { return static_cast<double>(10 * r + c) + 0.25; }

template <class T>
tensor<T> distinct_tensor(std::size_t rows, std::size_t cols) {
    tensor<T> t(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) t(r, c) = static_cast<T>(distinct_value(r, c));
    return t;
}

// Counts the elements of `actual` that differ from distinct_value(r + row0, c + col0).
template <class V>
std::size_t distinct_mismatches(V actual, std::size_t row0 = 0, std::size_t col0 = 0) {
    std::size_t wrong = 0;
    for (std::size_t r = 0; r < actual.rows(); ++r)
        for (std::size_t c = 0; c < actual.cols(); ++c)
            wrong += actual(r, c) != static_cast<typename V::value_type>(distinct_value(r + row0, c + col0));
    return wrong;
}

}  // namespace

TEST_CASE("a tensor is built empty, with a shape, filled, or from rows of values", "[tensor]") {
    const tensor<double> empty;
    CHECK(empty.rows() == 0);
    CHECK(empty.cols() == 0);
    CHECK(empty.size() == 0);

    tensor<float> shaped(3, 5);
    CHECK(shaped.rows() == 3);
    CHECK(shaped.cols() == 5);
    CHECK(shaped.size() == 15);
    shaped(2, 4) = 7.5f;  // the last element is writable and reads back
    CHECK(shaped(2, 4) == 7.5f);

    const tensor<double> filled(2, 3, -1.5);
    CHECK(filled.size() == 6);
    for (std::size_t i = 0; i < filled.size(); ++i) CHECK(filled.data()[i] == -1.5);

    // Row-major: one braced list per row.
    const tensor<double> listed{{1, 2, 3}, {4, 5, 6}};
    REQUIRE(listed.rows() == 2);
    REQUIRE(listed.cols() == 3);
    CHECK(listed(0, 2) == 3);
    CHECK(listed(1, 0) == 4);
    for (std::size_t i = 0; i < listed.size(); ++i) CHECK(listed.data()[i] == static_cast<double>(i + 1));
}

TEST_CASE("a ragged initializer list throws etna::error", "[tensor]") {
    CHECK_THROWS_AS((tensor<double>{{1, 2}, {3}}), error);
    CHECK_THROWS_WITH((tensor<double>{{1, 2}, {3}}), "etna: tensor rows differ in length: row 0 has 2 values, row 1 has 1");
    CHECK_THROWS_WITH((tensor<float>{{1}, {2}, {3, 4}}), "etna: tensor rows differ in length: row 0 has 1 values, row 2 has 2");
}

TEST_CASE("copies of a tensor are deep", "[tensor]") {
    tensor<double> original = distinct_tensor<double>(3, 4);

    tensor<double> constructed(original);
    tensor<double> assigned(1, 1, 0.0);
    assigned = original;
    original(1, 2) = -100;  // must not show through either copy

    for (const tensor<double>* copy : {&constructed, &assigned}) {
        CHECK(copy->data() != original.data());
        CHECK(copy->rows() == 3);
        CHECK(copy->cols() == 4);
        CHECK(distinct_mismatches(copy->view()) == 0);
    }
}

TEST_CASE("tensor storage is aligned to 64 bytes", "[tensor]") {
    STATIC_REQUIRE(tensor<float>::alignment == 64);
    // Odd sizes too: an allocator that only rounds sizes would fail these.
    for (std::size_t cols : {1, 3, 17, 64, 1001}) {
        const tensor<float> f(1, cols);
        const tensor<double> d(3, cols, 0.0);
        CHECK(is_aligned(f.data()));
        CHECK(is_aligned(d.data()));
        CHECK(is_aligned(tensor<double>(d).data()));
        CHECK(is_aligned(tensor<double>::copy_of(f.view()).data()));
    }
}

TEST_CASE("copy_of converts between float and double", "[tensor]") {
    const tensor<double> d{{0.1, -2.5e-3}, {1e10, 3.0}};
    const tensor<float> f = tensor<float>::copy_of(d.view());
    REQUIRE(f.rows() == 2);
    REQUIRE(f.cols() == 2);
    for (std::size_t i = 0; i < f.size(); ++i) CHECK(f.data()[i] == static_cast<float>(d.data()[i]));  // rounded once

    const tensor<double> back = tensor<double>::copy_of(f.view());
    for (std::size_t i = 0; i < back.size(); ++i) CHECK(back.data()[i] == static_cast<double>(f.data()[i]));  // exact
}

TEST_CASE("a view with a row stride larger than its row length reads and writes a sub-block", "[tensor][view]") {
    tensor<double> whole = distinct_tensor<double>(4, 6);
    // Rows 1..3, columns 2..4 of `whole`: each row starts 6 elements after the previous one.
    const view<double> block(&whole(1, 2), 3, 3, 6);
    CHECK(block.row_stride() == 6);
    CHECK(block.row(2) == &whole(3, 2));
    CHECK(distinct_mismatches(block, 1, 2) == 0);

    block(2, 1) = -1;
    CHECK(whole(3, 3) == -1);

    // copy_of packs the rows: the copy is contiguous.
    const tensor<double> packed = tensor<double>::copy_of(view<const double>(&whole(0, 1), 4, 2, 6));
    CHECK(packed.view().row_stride() == 2);
    CHECK(distinct_mismatches(packed.view(), 0, 1) == 0);
}

TEST_CASE("a view of mutable data converts to a read-only one, and not back", "[tensor][view]") {
    STATIC_REQUIRE(std::is_convertible_v<view<double>, view<const double>>);
    STATIC_REQUIRE(!std::is_convertible_v<view<const double>, view<double>>);
    STATIC_REQUIRE(!std::is_convertible_v<view<float>, view<const double>>);
    STATIC_REQUIRE(std::is_convertible_v<tensor<float>&, view<float>>);
    STATIC_REQUIRE(!std::is_convertible_v<const tensor<float>&, view<float>>);
    STATIC_REQUIRE(std::is_convertible_v<const tensor<float>&, view<const float>>);

    tensor<float> t = distinct_tensor<float>(3, 5);
    const view<float> mutable_block(&t(0, 1), 2, 3, 5);
    const view<const float> read_only = mutable_block;
    CHECK(read_only.data() == mutable_block.data());
    CHECK(read_only.rows() == 2);
    CHECK(read_only.cols() == 3);
    CHECK(read_only.row_stride() == 5);

    const view<const float> of_tensor = std::as_const(t).view();
    CHECK(of_tensor.data() == t.data());
    CHECK(distinct_mismatches(of_tensor) == 0);
}

TEST_CASE("a view whose row stride is smaller than its row length throws", "[tensor][view]") {
    tensor<double> t(4, 4, 0.0);
    CHECK_THROWS_AS(view<double>(t.data(), 2, 3, 2), error);
    CHECK_THROWS_WITH(view<double>(t.data(), 2, 3, 2),
                      "etna: a view's row stride (2) is smaller than its row length (3): its rows would overlap");
    CHECK_NOTHROW(view<double>(t.data(), 2, 3, 3));
}

TEST_CASE("a view of a non-empty shape with a null pointer throws", "[tensor][view]") {
    CHECK_THROWS_AS(view<const float>(nullptr, 2, 3), error);
    CHECK_THROWS_WITH(view<double>(nullptr, 1, 1), "etna: a view of a non-empty shape needs a data pointer");
    // An empty shape needs no data: zero tokens is a valid input.
    CHECK_NOTHROW(view<double>(nullptr, 0, 3));
    CHECK_NOTHROW(view<double>(nullptr, 3, 0));
}

TEST_CASE("a moved-from tensor is empty, never a shape without storage", "[tensor]") {
    tensor<double> a(3, 4, 1.0);
    const tensor<double> b = std::move(a);
    CHECK(b.rows() == 3);
    CHECK(a.rows() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
    CHECK(a.cols() == 0);
    CHECK(a.view().size() == 0);
    const tensor<double> copy = a;
    CHECK(copy.size() == 0);
}

TEST_CASE("a tensor too large to address throws instead of wrapping its size", "[tensor]") {
    CHECK_THROWS_WITH(tensor<double>(std::size_t{1} << 62, 1),
                      "etna: a tensor of 4611686018427387904 x 1 elements is too large to allocate");
}
