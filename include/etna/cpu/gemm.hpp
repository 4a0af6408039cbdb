// gemm: the float matrix products of a linear layer on a tile of tokens, C = A op(W) and
// G += A^T B, single-threaded per call and safe to call from several threads at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>

#include <fmt/format.h>

#include <etna/runtime/error.hpp>
#include <etna/runtime/tensor.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ETNA_GEMM_X86 1
#endif

namespace etna::cpu {

// The micro-kernels gemm has. etna is header-only and its users need not compile with
// -march=native, so every kernel is compiled for its own instruction set (a target attribute)
// and the best one the CPU runs is chosen at run time, once per call.
enum class gemm_isa { portable, avx2, avx512 };

inline bool gemm_isa_supported(gemm_isa isa) noexcept {
#ifdef ETNA_GEMM_X86
    __builtin_cpu_init();  // a no-op after startup; needed if called from a static initializer
    switch (isa) {
    case gemm_isa::avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    case gemm_isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case gemm_isa::portable: return true;
    }
    return false;
#else
    return isa == gemm_isa::portable;
#endif
}

inline gemm_isa best_gemm_isa() noexcept {
    for (const auto isa : {gemm_isa::avx512, gemm_isa::avx2})
        if (gemm_isa_supported(isa)) return isa;
    return gemm_isa::portable;
}

namespace gemm_detail {

template <std::size_t Width>
struct vector_of {
    typedef float type __attribute__((vector_size(4 * Width)));
    // The same vector at any float address: rows of C, and panels (no alignment needed there).
    typedef float unaligned __attribute__((vector_size(4 * Width), aligned(4), may_alias));
};

// A micro-kernel computes a rows x (vectors * width) tile of C in registers. The multiply-add
// is the instruction set's FMA, explicitly: every product is rounded once whatever the
// compiler's -ffp-contract and optimization level, so avx2 and avx512 give the same bits.
// AVX-512: 6 x 64, 24 accumulators of 32 registers; 6 rows waste 3% of a 64-token tile where
// 14 x 32 wastes 9% (and measured 4-8% slower). AVX2: the classic 6 x 16, 12 of 16 registers.
#ifdef ETNA_GEMM_X86
struct avx512_kernel {
    static constexpr std::size_t width = 16, rows = 6, vectors = 4;
    using vec = vector_of<width>::type;
    [[gnu::target("avx512f,avx512vl,fma")]] static void multiply_add(vec& sum, float a, const vec& b) {
        sum = _mm512_fmadd_ps(_mm512_set1_ps(a), b, sum);
    }
};
struct avx2_kernel {
    static constexpr std::size_t width = 8, rows = 6, vectors = 2;
    using vec = vector_of<width>::type;
    [[gnu::target("avx2,fma")]] static void multiply_add(vec& sum, float a, const vec& b) {
        sum = _mm256_fmadd_ps(_mm256_set1_ps(a), b, sum);
    }
};
#endif
// Any CPU: the compiler's baseline vectors; without an FMA instruction each product is rounded.
struct portable_kernel {
    static constexpr std::size_t width = 4, rows = 6, vectors = 2;
    using vec = vector_of<width>::type;
    static void multiply_add(vec& sum, float a, const vec& b) { sum += a * b; }
};

template <class Kernel>
constexpr std::size_t panel_width_of = Kernel::vectors * Kernel::width;

// The tile shape of each instruction set's kernel: rows of A per panel, columns of op(W) per panel.
struct tile_shape {
    std::size_t rows, cols;
};
inline tile_shape tile_shape_of(gemm_isa isa) {
    switch (isa) {
#ifdef ETNA_GEMM_X86
    case gemm_isa::avx512: return {avx512_kernel::rows, panel_width_of<avx512_kernel>};
    case gemm_isa::avx2: return {avx2_kernel::rows, panel_width_of<avx2_kernel>};
#endif
    default: return {portable_kernel::rows, panel_width_of<portable_kernel>};
    }
}

// Cache blocking: a block of A (mc x kc, packed, 264 KB at most) stays in L2 while the kernel
// sweeps it with every kc x 64 panel of op(W); for 64..256 tokens mc covers the whole tile, so A
// is packed once per call. gemm_tn packs a kc x nc block of B (512 KB) as its panels. kc = 128,
// 192 or 384 and nc = 2048 measured the same as these within the noise (5%).
inline constexpr std::size_t kc = 256;
inline constexpr std::size_t mc = 258;  // 43 panels of 6 rows
inline constexpr std::size_t nc = 512;

// A block of C: rows x cols (+)= A (packed: panels of `tile.rows` rows, each depth x tile.rows,
// step-major) times B (panels of tile.cols columns, each depth x tile.cols, `panel_stride` apart).
struct block {
    std::size_t depth, rows, cols;
    const float* a;
    const float* b;
    std::size_t panel_stride;
    float* c;
    std::size_t ldc;
    bool load_c;  // add to C; otherwise overwrite it
};

// One full tile. Each element of C is a chain of multiply-adds over the steps in order, starting
// from C's value (or 0): blocking in depth continues the chain, it never splits the sum.
template <class Kernel>
[[gnu::always_inline]] inline void multiply_tile(std::size_t depth, const float* a, const float* b, float* c,
                                                 std::size_t ldc, bool load_c) {
    using vec = typename Kernel::vec;
    using unaligned = typename vector_of<Kernel::width>::unaligned;
    constexpr std::size_t rows = Kernel::rows, vectors = Kernel::vectors, width = Kernel::width;
    vec sum[rows][vectors];
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t v = 0; v < vectors; ++v)
            sum[r][v] = load_c ? *reinterpret_cast<const unaligned*>(c + r * ldc + v * width) : vec{};
    for (std::size_t p = 0; p < depth; ++p, a += rows, b += vectors * width) {
        vec w[vectors];
        for (std::size_t v = 0; v < vectors; ++v) w[v] = *reinterpret_cast<const unaligned*>(b + v * width);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t v = 0; v < vectors; ++v) Kernel::multiply_add(sum[r][v], a[r], w[v]);
    }
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t v = 0; v < vectors; ++v) *reinterpret_cast<unaligned*>(c + r * ldc + v * width) = sum[r][v];
}

// The tile of C a kernel reads next: its rows are far apart, and the kernel's first loads would
// wait for them. It pays where a tile has few steps: gemm_tn of 64 tokens, +7% (best of 6 runs);
// nothing measurable at 128 or more steps.
inline void prefetch_tile(const float* c, std::size_t ldc, std::size_t rows, std::size_t cols) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; j += 16) __builtin_prefetch(c + r * ldc + j, 1);
}

// The tiles of a block, each panel of B reused by every panel of A. A tile at the bottom or right
// edge is computed whole in a local tile (the packing pads A and B with zeros) and its part of C
// copied back: the same chain per element as a full tile.
template <class Kernel>
[[gnu::always_inline]] inline void block_loop(const block& blk) {
    constexpr std::size_t rows = Kernel::rows, cols = panel_width_of<Kernel>;
    for (std::size_t j = 0; j < blk.cols; j += cols) {
        const float* b = blk.b + j / cols * blk.panel_stride;
        const std::size_t tile_cols = std::min(cols, blk.cols - j);
        for (std::size_t i = 0; i < blk.rows; i += rows) {
            const float* a = blk.a + i * blk.depth;
            float* c = blk.c + i * blk.ldc + j;
            const std::size_t tile_rows = std::min(rows, blk.rows - i);
            // The next tile: below this one, or the first of the next column.
            if (i + rows < blk.rows)
                prefetch_tile(c + rows * blk.ldc, blk.ldc, std::min(rows, blk.rows - i - rows), tile_cols);
            else if (j + cols < blk.cols)
                prefetch_tile(blk.c + j + cols, blk.ldc, std::min(rows, blk.rows), std::min(cols, blk.cols - j - cols));
            if (tile_rows == rows && tile_cols == cols) {
                multiply_tile<Kernel>(blk.depth, a, b, c, blk.ldc, blk.load_c);
                continue;
            }
            alignas(64) float tile[rows * cols] = {};
            if (blk.load_c)
                for (std::size_t r = 0; r < tile_rows; ++r) std::copy_n(c + r * blk.ldc, tile_cols, tile + r * cols);
            multiply_tile<Kernel>(blk.depth, a, b, tile, cols, blk.load_c);
            for (std::size_t r = 0; r < tile_rows; ++r) std::copy_n(tile + r * cols, tile_cols, c + r * blk.ldc);
        }
    }
}

// Each instruction set's copy of the block loop, compiled for it (flatten: its kernel's
// multiply-adds, themselves compiled for it, are inlined into the loop).
#ifdef ETNA_GEMM_X86
[[gnu::target("avx512f,avx512vl,fma"), gnu::flatten]] inline void block_loop_avx512(const block& blk) {
    block_loop<avx512_kernel>(blk);
}
[[gnu::target("avx2,fma"), gnu::flatten]] inline void block_loop_avx2(const block& blk) {
    block_loop<avx2_kernel>(blk);
}
#endif
inline void block_loop_portable(const block& blk) { block_loop<portable_kernel>(blk); }

inline void multiply_block(gemm_isa isa, const block& blk) {
    switch (isa) {
#ifdef ETNA_GEMM_X86
    case gemm_isa::avx512: return block_loop_avx512(blk);
    case gemm_isa::avx2: return block_loop_avx2(blk);
#endif
    default: return block_loop_portable(blk);
    }
}

// Packing: `count` rows or columns of a matrix (depth values each) into panels of `panel` of
// them, panel_stride apart: value p of the r-th of a panel goes to p * panel + r, zero past the
// last one. A for gemm and W^T are packed by rows, W, B and A^T (gemm_tn) by columns.
inline void pack_rows(const float* x, std::size_t ld, std::size_t count, std::size_t depth, std::size_t panel,
                      std::size_t panel_stride, float* out) {
    for (std::size_t i = 0; i < count; i += panel, out += panel_stride) {
        const std::size_t filled = std::min(panel, count - i);
        // 16 values (a cache line) of each row at a time, so that the panel's lines being
        // written stay in L1 (a 64-wide panel of W^T: 9.5 GB/s unblocked).
        for (std::size_t first = 0; first < depth; first += 16)
            for (std::size_t r = 0; r < filled; ++r)
                for (std::size_t p = first; p < std::min(depth, first + 16); ++p) out[p * panel + r] = x[(i + r) * ld + p];
        for (std::size_t p = 0; p < depth; ++p) std::fill_n(out + p * panel + filled, panel - filled, 0.0f);
    }
}
inline void pack_columns(const float* x, std::size_t ld, std::size_t count, std::size_t depth, std::size_t panel,
                         std::size_t panel_stride, float* out) {
    for (std::size_t i = 0; i < count; i += panel, out += panel_stride) {
        const std::size_t filled = std::min(panel, count - i);
        for (std::size_t p = 0; p < depth; ++p) {
            std::copy_n(x + p * ld + i, filled, out + p * panel);
            std::fill_n(out + p * panel + filled, panel - filled, 0.0f);
        }
    }
}

inline std::size_t round_up(std::size_t count, std::size_t multiple) { return (count + multiple - 1) / multiple * multiple; }

// Scratch for a packed block, one per thread, kept between calls.
inline float* scratch(tensor<float>& buffer, std::size_t size) {
    if (buffer.size() < size) buffer = tensor<float>(1, size);
    return buffer.data();
}

inline void check_stride(const char* call, const char* name, std::size_t stride, std::size_t width) {
    if (stride < width)
        throw error(fmt::format("etna: {}: row stride {} = {} is less than the row width {}", call, name, stride, width));
}

}  // namespace gemm_detail

// The right operand of C = A op(W): W (rows x cols, row-major, row stride ld), or its transpose,
// packed once per kernel call into panels for the micro-kernel of `isa`, then shared read-only
// by every tile and thread. op(W) is k x n: W itself, or W^T when transposed.
class packed_weight {
public:
    // `threads` OpenMP threads pack the panels, each panel by one of them.
    void pack(const float* w, std::size_t rows, std::size_t cols, std::size_t ld, bool transposed,
              gemm_isa isa = best_gemm_isa(), int threads = 1) {
        gemm_detail::check_stride("packed_weight::pack", "ld", ld, cols);
        if (!gemm_isa_supported(isa))
            throw error("etna: packed_weight::pack: this CPU cannot run the requested micro-kernel");
        isa_ = isa;
        k_ = transposed ? cols : rows;
        n_ = transposed ? rows : cols;
        panel_ = gemm_detail::tile_shape_of(isa).cols;
        const std::size_t panels = (n_ + panel_ - 1) / panel_;
        if (panels_.rows() != panels || panels_.cols() != k_ * panel_) panels_ = tensor<float>(panels, k_ * panel_);
        // Column j of op(W) is row j of W when transposed (contiguous), column j of W otherwise.
        const auto panel_count = static_cast<std::ptrdiff_t>(panels);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t p = 0; p < panel_count; ++p) {
            const std::size_t first = static_cast<std::size_t>(p) * panel_, count = std::min(panel_, n_ - first);
            float* out = panels_.data() + first * k_;
            if (transposed) gemm_detail::pack_rows(w + first * ld, ld, count, k_, panel_, k_ * panel_, out);
            else gemm_detail::pack_columns(w + first, ld, count, k_, panel_, k_ * panel_, out);
        }
    }

    [[nodiscard]] std::size_t k() const noexcept { return k_; }
    [[nodiscard]] std::size_t n() const noexcept { return n_; }
    [[nodiscard]] gemm_isa isa() const noexcept { return isa_; }
    // Panel p of op(W)'s columns, from step `first` (of k) on.
    [[nodiscard]] const float* panels(std::size_t first) const noexcept { return panels_.data() + first * panel_; }
    [[nodiscard]] std::size_t panel_stride() const noexcept { return k_ * panel_; }

private:
    gemm_isa isa_ = gemm_isa::portable;
    std::size_t k_ = 0, n_ = 0, panel_ = 1;
    tensor<float> panels_;  // one row per panel of `panel_` columns: k_ steps of panel_ values
};

// C (m x n, row stride ldc) = A (m x k, row stride lda) op(W), or C += A op(W) when accumulate.
// Each C[i][j] is the chain fma(A[i][k-1], op(W)[k-1][j], ... fma(A[i][0], op(W)[0][j], c0)) with
// c0 = C[i][j] or 0, whatever m, the tile, the thread or the alignment. Products are rounded once
// (FMA), except by the portable kernel, whose rounding is the compiler's (a * b + c).
inline void gemm(const float* a, std::size_t lda, std::size_t m, const packed_weight& w, float* c, std::size_t ldc,
                 bool accumulate) {
    using namespace gemm_detail;
    const std::size_t k = w.k(), n = w.n();
    if (m > 0) {
        check_stride("gemm", "lda", lda, k);
        check_stride("gemm", "ldc", ldc, n);
    }
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!accumulate)
            for (std::size_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
        return;
    }
    const tile_shape tile = tile_shape_of(w.isa());
    thread_local tensor<float> a_buffer;
    float* a_packed = scratch(a_buffer, round_up(std::min(mc, m), tile.rows) * std::min(kc, k));
    for (std::size_t first = 0; first < k; first += kc) {
        const std::size_t depth = std::min(kc, k - first);
        for (std::size_t i = 0; i < m; i += mc) {
            const std::size_t rows = std::min(mc, m - i);
            pack_rows(a + i * lda + first, lda, rows, depth, tile.rows, tile.rows * depth, a_packed);
            multiply_block(w.isa(), {depth, rows, n, a_packed, w.panels(first), w.panel_stride(), c + i * ldc, ldc,
                                     accumulate || first > 0});
        }
    }
}

// G (k x n, row stride ldg) += A^T B, A: t x k (row stride lda), B: t x n (ldb): the sum over t
// tokens of outer products (dW = X^T dY of a tile, accumulated over the tiles of a call).
// Each G[i][j] is the chain of fma over the tokens in order, starting from G[i][j].
inline void gemm_tn(const float* a, std::size_t lda, const float* b, std::size_t ldb, std::size_t t, std::size_t k,
                    std::size_t n, float* g, std::size_t ldg, gemm_isa isa = best_gemm_isa()) {
    using namespace gemm_detail;
    if (t > 0) {
        check_stride("gemm_tn", "lda", lda, k);
        check_stride("gemm_tn", "ldb", ldb, n);
    }
    if (k > 0) check_stride("gemm_tn", "ldg", ldg, n);
    if (t == 0 || k == 0 || n == 0) return;
    if (!gemm_isa_supported(isa)) throw error("etna: gemm_tn: this CPU cannot run the requested micro-kernel");
    const tile_shape tile = tile_shape_of(isa);
    thread_local tensor<float> a_buffer, b_buffer;
    float* a_packed = scratch(a_buffer, round_up(std::min(mc, k), tile.rows) * std::min(kc, t));
    float* b_packed = scratch(b_buffer, round_up(std::min(nc, n), tile.cols) * std::min(kc, t));
    for (std::size_t first = 0; first < t; first += kc) {
        const std::size_t depth = std::min(kc, t - first);
        for (std::size_t j = 0; j < n; j += nc) {
            const std::size_t cols = std::min(nc, n - j);
            pack_columns(b + first * ldb + j, ldb, cols, depth, tile.cols, tile.cols * depth, b_packed);
            for (std::size_t i = 0; i < k; i += mc) {
                const std::size_t rows = std::min(mc, k - i);
                pack_columns(a + first * lda + i, lda, rows, depth, tile.rows, tile.rows * depth, a_packed);
                multiply_block(isa, {depth, rows, cols, a_packed, b_packed, tile.cols * depth, g + i * ldg + j, ldg, true});
            }
        }
    }
}

}  // namespace etna::cpu
