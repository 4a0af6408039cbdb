// Checkpoints: bit-exact round trips, the documented byte layout, all-or-nothing loading, and a
// clear error for every kind of damaged file.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/store/checkpoint.hpp>
#include <etna/runtime/tensor.hpp>

using namespace etna;
using Catch::Contains;

namespace {

namespace fs = std::filesystem;

// A fresh directory under the system's temporary directory, removed with its contents.
class scratch_directory {
public:
    scratch_directory() {
        std::random_device entropy;
        const std::uint64_t tag = (std::uint64_t{entropy()} << 32) | entropy();
        path_ = fs::temp_directory_path() / fmt::format("etna_checkpoint_test_{:016x}", tag);
        fs::create_directories(path_);
    }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    ~scratch_directory() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }

    [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::uint32_t bits(float value) { return std::bit_cast<std::uint32_t>(value); }

std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Written from the FNV-1a definition, independently of the header, to check the documented format.
std::uint64_t fnv1a_64(std::span<const unsigned char> bytes) {
    std::uint64_t hash = 14695981039346656037u;
    for (const unsigned char byte : bytes) hash = (hash ^ byte) * 1099511628211u;
    return hash;
}

void put_little_endian(std::vector<unsigned char>& bytes, std::size_t offset, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) bytes[offset + i] = static_cast<unsigned char>(value >> (8 * i));
}

void append_little_endian(std::vector<unsigned char>& bytes, std::uint64_t value, std::size_t size) {
    bytes.resize(bytes.size() + size);
    put_little_endian(bytes, bytes.size() - size, value, size);
}

void append_text(std::vector<unsigned char>& bytes, std::string_view text) {
    for (const char c : text) bytes.push_back(static_cast<unsigned char>(c));
}

// Rewrites the stored checksum, so that a crafted file is wrong only in what the test changed.
void reseal(std::vector<unsigned char>& bytes) {
    const std::size_t trailer = bytes.size() - 16;
    put_little_endian(bytes, trailer, fnv1a_64(std::span(bytes).first(trailer)), 8);
}

std::string load_failure(const std::string& path) {
    try {
        (void)checkpoint::load(path);
    } catch (const etna::error& e) {
        return e.what();
    }
    return "(loaded without an error)";
}

// The small file of the layout test; its byte offsets are:
//   0 magic, 8 version, 12 byte-order mark, 16 tensor count, 20 metadata count,
//   24 metadata "step" (length, name, value at 29), 37 tensor "a" (length, name, type at 39,
//   rows at 43, cols at 47, values at 51), 59 tensor "b" (values at 73), 81 checksum,
//   89 end marker; 97 bytes in all.
constexpr std::size_t offset_of_a = 37;
constexpr std::size_t offset_of_b = 59;
constexpr std::size_t values_of_b = 73;
constexpr std::size_t small_file_size = 97;

void save_small(const std::string& path) {
    const tensor<float> a{{1.0f, -2.0f}};
    const tensor<float> b{{0.5f}, {4.0f}};
    save_checkpoint(path, {{"a", a.view()}, {"b", b.view()}}, {{"step", 7}});
}

}  // namespace

TEST_CASE("a checkpoint round-trips bit-exactly", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("model.ckpt");

    const std::vector<std::uint32_t> special = {
        0x7fc12345,  // quiet NaN with a payload
        0xffc00001,  // negative quiet NaN with a payload
        0x7f800001,  // signaling NaN
        0x80000000,  // -0.0
        0x00000001,  // smallest denormal
        0x807fffff,  // largest negative denormal
        0x7f800000,  // +inf
        0xff800000,  // -inf
        bits(1.0f / 3.0f)};
    tensor<float> weights(3, 3);
    for (std::size_t i = 0; i < special.size(); ++i) weights.data()[i] = std::bit_cast<float>(special[i]);
    // A 2 x 2 window of a 3 x 5 tensor: rows 5 floats apart, written contiguously.
    tensor<float> wide(3, 5);
    for (std::size_t i = 0; i < wide.size(); ++i) wide.data()[i] = static_cast<float>(i) + 0.25f;
    const view<const float> window(wide.row(1) + 2, 2, 2, 5);
    const tensor<float> empty(0, 5);

    save_checkpoint(path, {{"weights", weights.view()}, {"window", window}, {"empty", empty.view()}},
                    {{"step", 12345}, {"seed", 0xffffffffffffffff}, {"depth", 4}});
    const checkpoint loaded = checkpoint::load(path);

    CHECK(loaded.names() == std::vector<std::string>{"weights", "window", "empty"});
    const view<const float> weights_read = loaded.tensor("weights");
    REQUIRE(weights_read.rows() == 3);
    REQUIRE(weights_read.cols() == 3);
    for (std::size_t i = 0; i < special.size(); ++i) CHECK(bits(weights_read(i / 3, i % 3)) == special[i]);

    const view<const float> window_read = loaded.tensor("window");
    REQUIRE(window_read.rows() == 2);
    REQUIRE(window_read.cols() == 2);
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t c = 0; c < 2; ++c) CHECK(bits(window_read(r, c)) == bits(window(r, c)));

    CHECK(loaded.tensor("empty").rows() == 0);
    CHECK(loaded.tensor("empty").cols() == 5);

    CHECK(loaded.metadata("step") == 12345);
    CHECK(loaded.metadata("seed") == 0xffffffffffffffff);
    CHECK(loaded.metadata("depth") == 4);
    CHECK(loaded.has_metadata("depth"));
    CHECK_FALSE(loaded.has_metadata("epoch"));
}

TEST_CASE("a checkpoint larger than the 64 KiB I/O blocks round-trips bit-exactly", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("large.ckpt");
    // 257 x 301 floats span several blocks, which end mid-row; the second tensor starts mid-block.
    tensor<float> first(257, 301);
    tensor<float> second(3, 4099);
    std::uint32_t pattern = 0x9e3779b9;
    for (tensor<float>* t : {&first, &second}) {
        for (std::size_t i = 0; i < t->size(); ++i) t->data()[i] = std::bit_cast<float>(pattern += 0x6d2b79f5);
    }
    save_checkpoint(path, {{"first", first.view()}, {"second", second.view()}}, {});
    const checkpoint loaded = checkpoint::load(path);

    for (const auto& [name, original] : {std::pair{"first", &first}, std::pair{"second", &second}}) {
        const view<const float> read = loaded.tensor(name);
        REQUIRE(read.rows() == original->rows());
        REQUIRE(read.cols() == original->cols());
        std::size_t differences = 0;
        for (std::size_t i = 0; i < original->size(); ++i) differences += bits(read.data()[i]) != bits(original->data()[i]);
        CHECK(differences == 0);
    }
}

TEST_CASE("a checkpoint file has the documented byte layout", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);

    std::vector<unsigned char> expected;
    append_text(expected, "ETNACKPT");
    append_little_endian(expected, 1, 4);           // version
    append_little_endian(expected, 0x01020304, 4);  // byte-order mark
    append_little_endian(expected, 2, 4);           // tensors
    append_little_endian(expected, 1, 4);           // metadata entries
    append_little_endian(expected, 4, 1);
    append_text(expected, "step");
    append_little_endian(expected, 7, 8);
    append_little_endian(expected, 1, 1);
    append_text(expected, "a");
    append_little_endian(expected, 0, 4);  // float32
    append_little_endian(expected, 1, 4);
    append_little_endian(expected, 2, 4);
    append_little_endian(expected, 0x3f800000, 4);  // 1.0f
    append_little_endian(expected, 0xc0000000, 4);  // -2.0f
    append_little_endian(expected, 1, 1);
    append_text(expected, "b");
    append_little_endian(expected, 0, 4);
    append_little_endian(expected, 2, 4);
    append_little_endian(expected, 1, 4);
    append_little_endian(expected, 0x3f000000, 4);  // 0.5f
    append_little_endian(expected, 0x40800000, 4);  // 4.0f
    append_little_endian(expected, fnv1a_64(expected), 8);
    append_text(expected, "ETNAEND!");

    REQUIRE(expected.size() == small_file_size);
    CHECK(read_bytes(path) == expected);
}

TEST_CASE("saving leaves no temporary file and replaces an older checkpoint", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("model.ckpt");
    const tensor<float> first{{1.0f}};
    const tensor<float> second{{2.0f, 3.0f}};

    save_checkpoint(path, {{"w", first.view()}}, {{"step", 1}});
    CHECK_FALSE(fs::exists(path + ".tmp"));
    save_checkpoint(path, {{"w", second.view()}}, {{"step", 2}});
    CHECK_FALSE(fs::exists(path + ".tmp"));

    const checkpoint loaded = checkpoint::load(path);
    CHECK(loaded.metadata("step") == 2);
    CHECK(loaded.tensor("w").cols() == 2);
}

TEST_CASE("saving rejects bad names and unwritable paths, naming the path", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("bad.ckpt");
    const tensor<float> w{{1.0f}};

    CHECK_THROWS_WITH(save_checkpoint(path, {{"", w.view()}}, {}), Contains(path) && Contains("tensor 0 has an empty name"));
    CHECK_THROWS_WITH(save_checkpoint(path, {{std::string(256, 'x'), w.view()}}, {}),
                      Contains(path) && Contains("is 256 bytes long, the limit is 255"));
    CHECK_THROWS_WITH(save_checkpoint(path, {{"w", w.view()}, {"w", w.view()}}, {}),
                      Contains(path) && Contains("duplicate tensor name 'w'"));
    CHECK_THROWS_WITH(save_checkpoint(path, {{"w", w.view()}}, {{"step", 1}, {"step", 2}}),
                      Contains(path) && Contains("duplicate metadata name 'step'"));
    CHECK_THROWS_WITH(save_checkpoint(path, {}, {{"", 1}}), Contains(path) && Contains("metadata 0 has an empty name"));
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".tmp"));

    const std::string unwritable = directory.file("no/such/directory/model.ckpt");
    CHECK_THROWS_WITH(save_checkpoint(unwritable, {{"w", w.view()}}, {}), Contains(unwritable) && Contains("cannot open"));

    // A 255-byte name is the longest allowed.
    const std::string longest(255, 'n');
    save_checkpoint(path, {{longest, w.view()}}, {{longest, 3}});
    CHECK(checkpoint::load(path).metadata(longest) == 3);
}

TEST_CASE("a missing tensor or metadata value is an error naming it", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    const checkpoint loaded = checkpoint::load(path);

    CHECK_THROWS_WITH(loaded.tensor("c"), Contains(path) && Contains("has no tensor 'c'"));
    CHECK_THROWS_WITH(loaded.metadata("epoch"), Contains(path) && Contains("has no metadata 'epoch'"));
}

TEST_CASE("load_into copies every tensor into its target, strided or not", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);

    tensor<float> a(1, 2, 0.0f);
    tensor<float> wide(2, 3, -1.0f);
    const view<float> b(wide.data() + 1, 2, 1, 3);
    checkpoint::load(path).load_into({{"b", b}, {"a", a.view()}});

    CHECK(a(0, 0) == 1.0f);
    CHECK(a(0, 1) == -2.0f);
    CHECK(wide(0, 1) == 0.5f);
    CHECK(wide(1, 1) == 4.0f);
    CHECK(wide(0, 0) == -1.0f);  // outside the window: untouched
    CHECK(wide(1, 2) == -1.0f);
}

TEST_CASE("load_into copies nothing unless every target matches a tensor exactly", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    const checkpoint loaded = checkpoint::load(path);

    const float untouched = 42.0f;
    tensor<float> a(1, 2, untouched);
    tensor<float> b(2, 1, untouched);
    tensor<float> b_transposed(1, 2, untouched);
    tensor<float> c(1, 1, untouched);

    SECTION("a shape mismatch is a shape_error naming the tensor, expected and found") {
        try {
            loaded.load_into({{"a", a.view()}, {"b", b_transposed.view()}});
            FAIL("load_into accepted a 1 x 2 target for a 2 x 1 tensor");
        } catch (const shape_error& e) {
            CHECK(e.leaf() == "b");
            CHECK(e.expected() == 1);
            CHECK(e.actual() == 2);
            CHECK_THAT(e.what(), Contains(path) && Contains("tensor 'b' is 2 x 1 in the file, expected 1 x 2"));
        }
    }
    SECTION("a target the checkpoint lacks is an error naming it") {
        CHECK_THROWS_WITH(loaded.load_into({{"a", a.view()}, {"b", b.view()}, {"c", c.view()}}),
                          Contains(path) && Contains("has no tensor 'c'"));
    }
    SECTION("a tensor without a target is an error naming the first one") {
        CHECK_THROWS_WITH(loaded.load_into({{"a", a.view()}}),
                          Contains(path) && Contains("tensor 'b' has no target (1 of its 2 tensors have none)"));
    }
    SECTION("two targets for one tensor are an error") {
        CHECK_THROWS_WITH(loaded.load_into({{"a", a.view()}, {"b", b.view()}, {"a", a.view()}}),
                          Contains(path) && Contains("tensor 'a' has two targets"));
    }
    CHECK(a(0, 0) == untouched);
    CHECK(a(0, 1) == untouched);
    CHECK(b(0, 0) == untouched);
    CHECK(b(1, 0) == untouched);
}

TEST_CASE("loading rejects a missing or truncated file", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    const std::vector<unsigned char> good = read_bytes(path);
    const std::string damaged = directory.file("damaged.ckpt");

    const std::string missing = directory.file("missing.ckpt");
    CHECK_THAT(load_failure(missing), Contains(missing) && Contains("No such file"));

    for (const std::size_t length : {0u, 1u, 8u, 23u}) {
        write_bytes(damaged, {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)});
        CHECK_THAT(load_failure(damaged),
                   Contains(damaged) && Contains(fmt::format("the file is {} bytes, shorter than the 24-byte header", length)));
    }
    // Just after the header, then inside the metadata, a tensor header, tensor values, the
    // checksum and the end marker.
    const std::vector<std::size_t> cuts = {24, 30, offset_of_a + 4, values_of_b + 3, small_file_size - 12, small_file_size - 1};
    for (const std::size_t length : cuts) {
        write_bytes(damaged, {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)});
        CHECK_THAT(load_failure(damaged), Contains(damaged) && Contains("truncated"));
    }
    // Every other length too: an error, whatever the message.
    for (std::size_t length = 0; length < good.size(); ++length) {
        write_bytes(damaged, {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)});
        CHECK_THROWS_AS(checkpoint::load(damaged), etna::error);
    }
}

TEST_CASE("loading rejects a damaged header", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    std::vector<unsigned char> bytes = read_bytes(path);

    SECTION("wrong magic") {
        bytes[0] = 'X';
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("not an etna checkpoint"));
    }
    SECTION("version 2") {
        put_little_endian(bytes, 8, 2, 4);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("unsupported format version 2 (this etna reads version 1)"));
    }
    SECTION("a byte-swapped byte-order mark, as a big-endian writer would leave") {
        put_little_endian(bytes, 12, 0x04030201, 4);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("wrong byte-order mark 0x04030201, expected 0x01020304"));
    }
    SECTION("a huge tensor count in a tiny file") {
        put_little_endian(bytes, 16, 0xffffffff, 4);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("4294967295 tensors and 1 metadata entries cannot fit"));
    }
    SECTION("a huge metadata count in a header-only file") {
        bytes.resize(24);
        put_little_endian(bytes, 16, 0, 4);
        put_little_endian(bytes, 20, 0xffffffff, 4);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("0 tensors and 4294967295 metadata entries cannot fit"));
    }
}

TEST_CASE("loading rejects damaged entries", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    std::vector<unsigned char> bytes = read_bytes(path);

    SECTION("a tensor too large for the file") {
        put_little_endian(bytes, offset_of_a + 6, 0xffffffff, 4);
        put_little_endian(bytes, offset_of_a + 10, 0xffffffff, 4);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path),
                   Contains(path) && Contains("tensor 'a' of 4294967295 x 4294967295 floats cannot fit in the 30 bytes"));
    }
    SECTION("an unknown element type") {
        put_little_endian(bytes, offset_of_a + 2, 7, 4);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("tensor 'a' has unknown element type 7"));
    }
    SECTION("an empty name") {
        put_little_endian(bytes, offset_of_a, 0, 1);
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("empty tensor name at offset 37"));
    }
    SECTION("duplicate tensor names") {
        bytes[offset_of_b + 1] = 'a';
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("duplicate tensor name 'a'"));
    }
    SECTION("duplicate metadata names") {
        const tensor<float> w{{1.0f}};
        save_checkpoint(path, {{"w", w.view()}}, {{"step", 1}, {"stop", 2}});
        bytes = read_bytes(path);
        bytes[24 + 1 + 4 + 8 + 3] = 'e';  // "stop" becomes "step"
        reseal(bytes);
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("duplicate metadata name 'step'"));
    }
}

TEST_CASE("loading rejects a damaged trailer or damaged contents", "[checkpoint]") {
    const scratch_directory directory;
    const std::string path = directory.file("small.ckpt");
    save_small(path);
    std::vector<unsigned char> bytes = read_bytes(path);

    SECTION("trailing garbage") {
        append_text(bytes, "garbage");
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("7 trailing bytes after the end marker"));
    }
    SECTION("a missing end marker") {
        bytes[small_file_size - 1] = '?';
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("missing end marker \"ETNAEND!\" at offset 89"));
    }
    SECTION("one flipped bit in the tensor values") {
        bytes[values_of_b + 2] ^= 0x01;
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("corrupt: checksum"));
    }
    SECTION("one changed byte in a tensor header") {
        bytes[offset_of_a + 1] = 'z';
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("corrupt: checksum"));
    }
    SECTION("one changed byte in a metadata value") {
        bytes[29] ^= 0x80;
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("corrupt: checksum"));
    }
    SECTION("one changed byte in the stored checksum") {
        bytes[small_file_size - 16] ^= 0x01;
        write_bytes(path, bytes);
        CHECK_THAT(load_failure(path), Contains(path) && Contains("corrupt: checksum"));
    }
    SECTION("every single-byte change: an error, whatever the message") {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            std::vector<unsigned char> flipped = bytes;
            flipped[i] ^= 0xff;
            write_bytes(path, flipped);
            INFO("byte " << i);
            CHECK_THROWS_AS(checkpoint::load(path), etna::error);
        }
    }
}
