// Output buffers: into(...) writes in place of allocating, checks shapes, and honours or refuses overlaps.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>

// Counts every allocation through operator new in this test program, so that a test can assert
// that a call allocates nothing. (The OpenMP runtime allocates with malloc, not counted.) The
// whole family is replaced, nothrow forms included, so that every new is paired with this free.
namespace {
std::atomic<std::size_t> allocations{0};

void* counted(std::size_t size, std::size_t alignment) noexcept {
    ++allocations;
    if (alignment <= alignof(std::max_align_t)) return std::malloc(size == 0 ? 1 : size);
    return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

void* counted_or_throw(std::size_t size, std::size_t alignment) {
    if (void* p = counted(size, alignment)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_or_throw(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return counted_or_throw(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

constexpr auto block = pre_norm(x, [](auto v) { return layer_norm(v, g, b); }, [](auto h) { return gelu(h); });

bool same_bits(view<const float> a, view<const float> b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c)
            if (a(r, c) != b(r, c)) return false;
    return true;
}

struct data {
    tensor<float> x = tensor<float>::copy_of(testing::random_tensor(13, 37, 1).view());
    tensor<float> g = tensor<float>::copy_of(testing::random_tensor(1, 37, 2, 1.0, 0.5).view());
    tensor<float> b = tensor<float>::copy_of(testing::random_tensor(1, 37, 3).view());
};

}  // namespace

TEST_CASE("into(...) writes the outputs into the caller's tensors and views", "[buffers]") {
    const data d;
    auto kernel = compile(block);
    const tensor<float> expected = kernel(x = d.x, g = d.g, b = d.b);
    tensor<float> out(13, 37);
    kernel(into(out), x = d.x, g = d.g, b = d.b);
    CHECK(same_bits(out.view(), expected.view()));

    // A window of a wider tensor: its row stride is not its width; the columns beside it stay.
    tensor<float> wide(13, 50, -7.0f);
    kernel(into(view<float>(wide.data() + 5, 13, 37, 50)), x = d.x, g = d.g, b = d.b);
    CHECK(same_bits(view<const float>(wide.data() + 5, 13, 37, 50), expected.view()));
    CHECK(wide(0, 4) == -7.0f);
    CHECK(wide(12, 42) == -7.0f);
}

TEST_CASE("outputs larger than the last-level cache, streamed past it, hold what row blocks compute", "[buffers][stream]") {
    // Outputs beyond the last-level cache are written with non-temporal stores (cpu/stream.hpp);
    // blocks of 64 rows are written with ordinary ones. Every token is computed alike, so the
    // values agree bitwise, rows whose start is not 64-byte aligned (D = 200) included.
    for (const std::size_t features : {std::size_t{256}, std::size_t{200}}) {
        const std::size_t tokens = cpu::last_level_cache_bytes() / (features * sizeof(float)) + 65;
        const auto xs = etna::testing::random_tensor<float>(tokens, features, 7);
        const auto gs = etna::testing::random_tensor<float>(1, features, 8);
        const auto bs = etna::testing::random_tensor<float>(1, features, 9);
        auto kernel = compile(block);
        tensor<float> streamed(tokens, features);
        kernel(into(streamed), x = xs, g = gs, b = bs);
        bool same = true;
        tensor<float> blocked(64, features);
        for (std::size_t first = 0; first < tokens; first += 64) {
            const std::size_t count = std::min<std::size_t>(64, tokens - first);
            kernel(into(blocked.view().row_block(0, count)), x = xs.view().row_block(first, count), g = gs, b = bs);
            same = same && same_bits(blocked.view().row_block(0, count), streamed.view().row_block(first, count));
        }
        CHECK(same);
    }
}

TEST_CASE("a call into buffers of the shapes of the previous call allocates nothing", "[buffers]") {
    const data d;
    constexpr auto mean = mean_f(x);
    auto kernel = compile(batch_norm(x, g, b), layer_norm(x, g, b), mean);  // saved values, partials, buffers
    tensor<float> y1(13, 37), y2(13, 37), means(13, 1);
    kernel(into(y1, y2, means), x = d.x, g = d.g, b = d.b);
    const std::size_t before = allocations.load();
    kernel(into(y1, y2, means), x = d.x, g = d.g, b = d.b);
    CHECK(allocations.load() == before);
}

TEST_CASE("an output buffer of the wrong shape throws shape_error naming the output", "[buffers]") {
    const data d;
    tensor<float> short_of_a_token(12, 37);
    CHECK_THROWS_WITH(compile(block)(into(short_of_a_token), x = d.x, g = d.g, b = d.b),
                      "etna: shape mismatch at output 0 (Act): 12 rows, expected 13");
    tensor<float> means(13, 2);
    CHECK_THROWS_WITH(compile(mean_f(x))(into(means), x = d.x), "etna: shape mismatch at output 0 (PerToken): 2 columns, expected 1");
}

TEST_CASE("an in-place residual update x = x + F(LN(x)) gives the out-of-place result", "[buffers][alias]") {
    const data d;
    auto kernel = compile(block);
    const tensor<float> expected = kernel(x = d.x, g = d.g, b = d.b);
    tensor<float> stream = d.x;
    kernel(into(stream), x = stream, g = d.g, b = d.b);
    CHECK(same_bits(stream.view(), expected.view()));
}

TEST_CASE("an output overlapping an input it cannot overwrite is refused with a reason", "[buffers][alias]") {
    const data d;
    SECTION("an input read by a later nest") {
        tensor<float> stream = d.x;
        tensor<float> normalized(13, 37);
        CHECK_THROWS_WITH(compile(x * constant<2.0>, batch_norm(x, g, b))(into(stream, normalized), x = stream, g = d.g, b = d.b),
                          "etna: output 0 overwrites leaf 'x', which this kernel reads after writing output 0; give the "
                          "output a buffer of its own");
    }
    SECTION("a window shifted by one token") {
        tensor<float> both(14, 37, 0.0f);
        const view<float> input = both.row_block(0, 13);
        CHECK_THROWS_WITH(compile(block)(into(both.row_block(1, 13)), x = input, g = d.g, b = d.b),
                          "etna: output 0 partly overlaps leaf 'x'; an output may overwrite an input only as exactly the "
                          "same view");
    }
    SECTION("a parameter, which every token reads") {
        tensor<float> one_token = tensor<float>::copy_of(d.x.row_block(0, 1));
        tensor<float> gamma = d.g;
        CHECK_THROWS_WITH(compile(x * g)(into(gamma), x = one_token, g = gamma),
                          "etna: output 0 overwrites leaf 'g', which this kernel reads after writing output 0; give the "
                          "output a buffer of its own");
    }
    SECTION("two outputs in one buffer") {
        tensor<float> out(13, 37);
        CHECK_THROWS_WITH(compile(x * g, x + g)(into(out, out), x = d.x, g = d.g), "etna: outputs 0 and 1 overlap");
    }
}
