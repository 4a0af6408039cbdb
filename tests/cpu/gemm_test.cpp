// gemm and gemm_tn (cpu/gemm.hpp) against a double-precision reference, for every micro-kernel
// this CPU runs: odd and empty shapes, shapes past the cache blocks, strides wider than rows,
// and the summation order that makes the results independent of tiling and alignment.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/cpu/gemm.hpp>
#include <support/random_tensor.hpp>

namespace {

using namespace etna;
using cpu::gemm_isa;

std::vector<gemm_isa> runnable_isas() {
    std::vector<gemm_isa> isas;
    for (const auto isa : {gemm_isa::portable, gemm_isa::avx2, gemm_isa::avx512})
        if (cpu::gemm_isa_supported(isa)) isas.push_back(isa);
    return isas;
}

// avx2 and avx512 round each product once (FMA); the portable kernel's rounding depends on the
// compiler's target (FMA or not) and is only checked within the error bound.
bool fuses(gemm_isa isa) { return isa != gemm_isa::portable; }

// rows x cols random floats in a buffer of row stride ld (padding filled with NaN, which must
// never be read), starting `offset` floats into its storage.
struct matrix {
    std::size_t rows, cols, ld, offset;
    std::vector<float> storage;

    matrix(std::size_t rows, std::size_t cols, std::size_t ld, unsigned seed, std::size_t offset = 0)
        : rows(rows), cols(cols), ld(ld), offset(offset), storage(rows * ld + offset + 16, std::nanf("")) {
        const auto values = testing::random_tensor<float>(rows, cols, seed);
        for (std::size_t i = 0; i < rows; ++i) std::copy_n(values.row(i), cols, data() + i * ld);
    }
    // The same values at another offset.
    matrix moved_to(std::size_t new_offset) const {
        matrix m(*this);
        m.offset = new_offset;
        m.storage.assign(storage.size(), std::nanf(""));
        for (std::size_t i = 0; i < rows; ++i) std::copy_n(data() + i * ld, cols, m.data() + i * ld);
        return m;
    }
    float* data() { return storage.data() + offset; }
    const float* data() const { return storage.data() + offset; }
    float operator()(std::size_t i, std::size_t j) const { return data()[i * ld + j]; }
};

bool same_bits(const matrix& x, const matrix& y) {
    for (std::size_t i = 0; i < x.rows; ++i)
        if (std::memcmp(x.data() + i * x.ld, y.data() + i * y.ld, x.cols * sizeof(float)) != 0) return false;
    return true;
}

// got[i][j] against c0[i][j] + sum_p a(i, p) b(p, j) in double, within k + 2 roundings of the
// sum of the magnitudes (the bound of a float dot product of k terms); with `exact_chain`,
// bitwise equal to the float fma chain over p in order that gemm promises.
template <class A, class B>
void check_product(const matrix& got, const matrix* c0, std::size_t depth, A a, B b, bool exact_chain) {
    const double unit = std::ldexp(1.0, -24);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < got.rows; ++i)
        for (std::size_t j = 0; j < got.cols; ++j) {
            double exact = c0 ? (*c0)(i, j) : 0.0, magnitude = std::abs(exact);
            float chain = c0 ? (*c0)(i, j) : 0.0f;
            for (std::size_t p = 0; p < depth; ++p) {
                exact += double{a(i, p)} * b(p, j);
                magnitude += std::abs(double{a(i, p)} * b(p, j));
                chain = std::fma(a(i, p), b(p, j), chain);
            }
            const float value = got(i, j);
            const bool ok = exact_chain ? std::memcmp(&value, &chain, sizeof value) == 0
                                        : std::abs(value - exact) <= (static_cast<double>(depth) + 2) * unit * magnitude;
            if (!ok && wrong++ < 5)
                UNSCOPED_INFO(fmt::format("C[{}][{}] = {}, expected {} (fma chain {})", i, j, value, exact, chain));
        }
    CHECK(wrong == 0);
}

struct shape {
    std::size_t m, k, n;
};

// Past the blocks: k > kc (256), m > mc (258), n > nc (512, gemm_tn); not multiples of 6 or 64.
const shape shapes[] = {{0, 5, 7},    {3, 0, 5},    {4, 6, 0},    {1, 1, 1},     {1, 17, 1},    {7, 1, 13},
                        {6, 64, 64},  {13, 31, 67}, {64, 512, 129}, {5, 300, 70}, {263, 261, 65}, {30, 7, 600}};

void check_gemm(gemm_isa isa, shape s, bool transposed, bool accumulate) {
    CAPTURE(static_cast<int>(isa), s.m, s.k, s.n, transposed, accumulate);
    const std::size_t w_rows = transposed ? s.n : s.k, w_cols = transposed ? s.k : s.n;
    const matrix a(s.m, s.k, s.k + 3, 1, 1);
    const matrix w(w_rows, w_cols, w_cols + 2, 2, 3);
    const matrix c0(s.m, s.n, s.n + 5, 3, 2);
    cpu::packed_weight packed;
    packed.pack(w.data(), w_rows, w_cols, w.ld, transposed, isa, 2);  // two threads, as a tiled kernel packs
    REQUIRE(packed.k() == s.k);
    REQUIRE(packed.n() == s.n);
    matrix c = c0;
    cpu::gemm(a.data(), a.ld, s.m, packed, c.data(), c.ld, accumulate);
    const auto op_w = [&](std::size_t p, std::size_t j) { return transposed ? w(j, p) : w(p, j); };
    check_product(c, accumulate ? &c0 : nullptr, s.k, a, op_w, fuses(isa));
}

}  // namespace

TEST_CASE("gemm equals the double-precision product for every micro-kernel, shape and stride", "[gemm]") {
    for (const auto isa : runnable_isas())
        for (const auto s : shapes)
            for (const bool transposed : {false, true})
                for (const bool accumulate : {false, true}) check_gemm(isa, s, transposed, accumulate);
}

TEST_CASE("gemm_tn adds A^T B to G for every micro-kernel, shape and stride", "[gemm]") {
    // t tokens; (m, k, n) of the shapes read as (t, k, n).
    for (const auto isa : runnable_isas())
        for (const auto s : shapes) {
            CAPTURE(static_cast<int>(isa), s.m, s.k, s.n);
            const matrix a(s.m, s.k, s.k + 1, 4, 1);
            const matrix b(s.m, s.n, s.n + 3, 5, 2);
            const matrix g0(s.k, s.n, s.n + 2, 6, 3);
            matrix g = g0;
            cpu::gemm_tn(a.data(), a.ld, b.data(), b.ld, s.m, s.k, s.n, g.data(), g.ld, isa);
            const auto a_t = [&](std::size_t i, std::size_t p) { return a(p, i); };
            check_product(g, &g0, s.m, a_t, b, fuses(isa));
        }
}

TEST_CASE("gemm's result does not depend on the run, the alignment or the tile of rows", "[gemm]") {
    const std::size_t m = 100, k = 300, n = 150;
    const matrix a(m, k, k, 7);
    const matrix w(k, n, n, 8);
    for (const auto isa : runnable_isas()) {
        CAPTURE(static_cast<int>(isa));
        cpu::packed_weight packed;
        packed.pack(w.data(), k, n, n, false, isa);
        matrix first(m, n, n, 9), again(m, n, n, 9);
        cpu::gemm(a.data(), a.ld, m, packed, first.data(), first.ld, false);
        cpu::gemm(a.data(), a.ld, m, packed, again.data(), again.ld, false);
        CHECK(same_bits(first, again));

        // A and W one float past a cache line, packed again, C at another offset.
        const matrix a_moved = a.moved_to(1), w_moved = w.moved_to(5);
        cpu::packed_weight packed_moved;
        packed_moved.pack(w_moved.data(), k, n, n, false, isa);
        matrix moved(m, n, n, 9, 3);
        cpu::gemm(a_moved.data(), a.ld, m, packed_moved, moved.data(), moved.ld, false);
        CHECK(same_bits(first, moved));

        // W packed by three threads, a panel each.
        cpu::packed_weight packed_by_threads;
        packed_by_threads.pack(w.data(), k, n, n, false, isa, 3);
        matrix by_threads(m, n, n, 9);
        cpu::gemm(a.data(), a.ld, m, packed_by_threads, by_threads.data(), by_threads.ld, false);
        CHECK(same_bits(first, by_threads));

        // Rows 41.. as their own tile (not on a boundary of 6), computed before rows 0..40.
        matrix tiled(m, n, n, 9);
        cpu::gemm(a.data() + 41 * a.ld, a.ld, m - 41, packed, tiled.data() + 41 * n, n, false);
        cpu::gemm(a.data(), a.ld, 41, packed, tiled.data(), n, false);
        CHECK(same_bits(first, tiled));
    }
}

TEST_CASE("gemm_tn's result does not depend on the run or the alignment", "[gemm]") {
    const std::size_t t = 77, k = 130, n = 90;
    const matrix a(t, k, k, 10), b(t, n, n, 11), g0(k, n, n, 12);
    for (const auto isa : runnable_isas()) {
        CAPTURE(static_cast<int>(isa));
        matrix first = g0, again = g0, moved = g0.moved_to(7);
        cpu::gemm_tn(a.data(), a.ld, b.data(), b.ld, t, k, n, first.data(), first.ld, isa);
        cpu::gemm_tn(a.data(), a.ld, b.data(), b.ld, t, k, n, again.data(), again.ld, isa);
        const matrix a_moved = a.moved_to(3), b_moved = b.moved_to(1);
        cpu::gemm_tn(a_moved.data(), a.ld, b_moved.data(), b.ld, t, k, n, moved.data(), moved.ld, isa);
        CHECK(same_bits(first, again));
        CHECK(same_bits(first, moved));
    }
}

TEST_CASE("gemm rejects a row stride narrower than its row", "[gemm]") {
    std::vector<float> x(64, 1.0f);
    cpu::packed_weight packed;
    CHECK_THROWS_WITH(packed.pack(x.data(), 4, 8, 7, false), Catch::Contains("ld = 7 is less than the row width 8"));
    packed.pack(x.data(), 4, 8, 8, false);
    CHECK_THROWS_WITH(cpu::gemm(x.data(), 3, 2, packed, x.data(), 8, false), Catch::Contains("lda = 3"));
    CHECK_THROWS_WITH(cpu::gemm(x.data(), 4, 2, packed, x.data(), 7, false), Catch::Contains("ldc = 7"));
    CHECK_THROWS_WITH(cpu::gemm_tn(x.data(), 4, x.data(), 2, 2, 4, 3, x.data(), 3), Catch::Contains("ldb = 2"));
}
