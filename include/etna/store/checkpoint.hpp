// save_checkpoint and checkpoint::load: named float tensors and u64 metadata in a validated binary file.
//
// Format version 1 (docs/checkpoint-format.md is the reference page). Every integer is
// little-endian; every float is the little-endian u32 of its IEEE-754 binary32 bit pattern, so
// NaN payloads, -0.0 and denormals round-trip exactly.
//
//   size   field
//   8      magic "ETNACKPT"
//   4      u32 format version = 1
//   4      u32 byte-order mark 0x01020304 (bytes 04 03 02 01; a big-endian writer gives 01 02 03 04)
//   4      u32 tensor count T
//   4      u32 metadata count M
//          M metadata entries:  u8 name length L (1..255), L name bytes, u64 value
//          T tensors, in order: u8 name length L (1..255), L name bytes,
//                               u32 element type (0 = float32), u32 rows R, u32 cols C,
//                               R * C float32 values, row-major
//   8      u64 FNV-1a 64 checksum of every byte before it
//   8      end marker "ETNAEND!"
//
// Loading reads the whole file and rejects, with the path and the reason in the message: a file
// that cannot be read; one shorter than the 24-byte header; a wrong magic; a version other than 1;
// a wrong byte-order mark; counts or shapes that need more bytes than remain (checked before
// allocating, so a corrupt count cannot cause a huge allocation); an empty name; an unknown
// element type; a duplicate name; a missing end marker; bytes after it; a checksum mismatch.
// A reader of version 1 rejects every other version: a new field or element type is a new version.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <etna/runtime/error.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

struct named_view {
    std::string name;
    view<const float> values;
};

struct named_mutable_view {
    std::string name;
    view<float> values;
};

namespace checkpoint_detail {

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "etna: checkpoints store float32 as IEEE-754 binary32 bit patterns");

inline constexpr std::string_view magic = "ETNACKPT";
inline constexpr std::string_view end_marker = "ETNAEND!";
inline constexpr std::uint32_t format_version = 1;
inline constexpr std::uint32_t byte_order_mark = 0x01020304;
inline constexpr std::uint32_t float32_type = 0;
inline constexpr std::size_t max_name_bytes = 255;
inline constexpr std::uint64_t max_u32 = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint64_t header_bytes = 24;
inline constexpr std::uint64_t trailer_bytes = 16;
// The smallest entries (a one-byte name, no values): they bound the counts a file of a given
// size can hold.
inline constexpr std::uint64_t min_metadata_bytes = 1 + 1 + 8;
inline constexpr std::uint64_t min_tensor_bytes = 1 + 1 + 4 + 4 + 4;
inline constexpr std::size_t chunk_bytes = std::size_t{1} << 16;

class fnv1a_64 {
public:
    void update(std::span<const unsigned char> bytes) noexcept {
        for (const unsigned char byte : bytes) {
            state_ ^= byte;
            state_ *= 0x100000001b3;
        }
    }
    [[nodiscard]] std::uint64_t value() const noexcept { return state_; }

private:
    std::uint64_t state_ = 0xcbf29ce484222325;
};

template <std::unsigned_integral U>
void append_little_endian(std::vector<unsigned char>& out, U value) {
    for (std::size_t i = 0; i < sizeof(U); ++i) out.push_back(static_cast<unsigned char>(value >> (8 * i)));
}

template <std::unsigned_integral U>
U from_little_endian(const unsigned char* bytes) {
    U value = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) value = static_cast<U>(value | static_cast<U>(U{bytes[i]} << (8 * i)));
    return value;
}

// Names are checked before the file is opened, so that a bad argument leaves no file behind.
template <class Entry, class NameOf>
void check_names_for_saving(const std::string& path, std::string_view kind, const std::vector<Entry>& entries,
                            NameOf name_of) {
    if (entries.size() > max_u32)
        throw error(fmt::format("etna: cannot save checkpoint '{}': {} {} entries exceed the format's limit of {}", path,
                                entries.size(), kind, max_u32));
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::string& name = name_of(entries[i]);
        if (name.empty()) throw error(fmt::format("etna: cannot save checkpoint '{}': {} {} has an empty name", path, kind, i));
        if (name.size() > max_name_bytes)
            throw error(fmt::format("etna: cannot save checkpoint '{}': {} name '{}' is {} bytes long, the limit is {}", path,
                                    kind, name, name.size(), max_name_bytes));
        if (!seen.insert(name).second)
            throw error(fmt::format("etna: cannot save checkpoint '{}': duplicate {} name '{}'", path, kind, name));
    }
}

// Collects the output in blocks, so that the checksum and the stream see large writes.
class writer {
public:
    explicit writer(std::ofstream& out) : out_(out) { buffer_.reserve(chunk_bytes + max_name_bytes); }

    template <std::unsigned_integral U>
    void number(U value) {
        append_little_endian(buffer_, value);
        flush_if_full();
    }
    void text(std::string_view bytes) {
        buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
        flush_if_full();
    }
    void name(const std::string& name) {
        number(static_cast<std::uint8_t>(name.size()));
        text(name);
    }
    void values(view<const float> values) {
        for (std::size_t r = 0; r < values.rows(); ++r) {
            for (std::size_t c = 0; c < values.cols(); ++c) number(std::bit_cast<std::uint32_t>(values(r, c)));
        }
    }
    // The trailer: the checksum of everything written so far, then the end marker.
    void finish() {
        flush();
        append_little_endian(buffer_, checksum_.value());
        buffer_.insert(buffer_.end(), end_marker.begin(), end_marker.end());
        write_buffer();
    }

private:
    void flush_if_full() {
        if (buffer_.size() >= chunk_bytes) flush();
    }
    void flush() {
        checksum_.update(buffer_);
        write_buffer();
    }
    void write_buffer() {
        out_.write(reinterpret_cast<const char*>(buffer_.data()), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }

    std::ofstream& out_;
    std::vector<unsigned char> buffer_;
    fnv1a_64 checksum_;
};

// Reads forward through the file, never past its end, and checksums every byte it reads.
class reader {
public:
    explicit reader(const std::string& path) : path_(path) {
        std::error_code code;
        size_ = std::filesystem::file_size(path, code);
        if (code) throw error(fmt::format("etna: cannot load checkpoint '{}': {}", path, code.message()));
        in_.open(path, std::ios::binary);
        if (!in_) throw error(fmt::format("etna: cannot load checkpoint '{}': cannot open it for reading", path));
    }

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
    [[nodiscard]] std::uint64_t remaining() const noexcept { return size_ - offset_; }
    [[nodiscard]] std::uint64_t remaining_before_trailer() const noexcept {
        return remaining() > trailer_bytes ? remaining() - trailer_bytes : 0;
    }
    // The checksum of every byte read so far.
    [[nodiscard]] std::uint64_t checksum() const noexcept { return checksum_.value(); }

    [[nodiscard]] error corrupt(std::string_view what) const {
        return error(fmt::format("etna: cannot load checkpoint '{}': {}", path_, what));
    }

    void read(std::span<unsigned char> out, std::string_view what) {
        if (out.size() > remaining())
            throw corrupt(fmt::format("truncated: {} needs {} bytes at offset {}, but the file ends at {}", what, out.size(),
                                      offset_, size_));
        in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
        if (static_cast<std::size_t>(in_.gcount()) != out.size())
            throw corrupt(fmt::format("reading {} at offset {} failed", what, offset_));
        checksum_.update(out);
        offset_ += out.size();
    }

    template <std::unsigned_integral U>
    U number(std::string_view what) {
        std::array<unsigned char, sizeof(U)> bytes{};
        read(bytes, what);
        return from_little_endian<U>(bytes.data());
    }

    std::string name(std::string_view kind) {
        const std::uint64_t at = offset_;
        const auto length = number<std::uint8_t>(fmt::format("the length of a {} name", kind));
        if (length == 0) throw corrupt(fmt::format("corrupt: empty {} name at offset {}", kind, at));
        std::string text(length, '\0');
        read({reinterpret_cast<unsigned char*>(text.data()), text.size()}, fmt::format("a {} name", kind));
        return text;
    }

    // The caller has checked that count values fit in the file.
    void floats(float* out, std::uint64_t count) {
        while (count > 0) {
            const std::size_t n = std::min<std::uint64_t>(count, chunk_.size() / 4);
            read({chunk_.data(), 4 * n}, "tensor values");
            for (std::size_t i = 0; i < n; ++i) out[i] = std::bit_cast<float>(from_little_endian<std::uint32_t>(&chunk_[4 * i]));
            out += n;
            count -= n;
        }
    }

private:
    std::string path_;
    std::ifstream in_;
    std::uint64_t size_ = 0;
    std::uint64_t offset_ = 0;
    fnv1a_64 checksum_;
    std::vector<unsigned char> chunk_ = std::vector<unsigned char>(chunk_bytes);
};

}  // namespace checkpoint_detail

// Writes path + ".tmp", then renames it to path: a crash leaves either the old file or the new
// one under path, never a half-written one. Views may be strided; rows are written contiguously.
inline void save_checkpoint(const std::string& path, const std::vector<named_view>& tensors,
                            const std::vector<std::pair<std::string, std::uint64_t>>& metadata) {
    using namespace checkpoint_detail;
    check_names_for_saving(path, "tensor", tensors, [](const named_view& t) -> const std::string& { return t.name; });
    check_names_for_saving(path, "metadata", metadata,
                           [](const std::pair<std::string, std::uint64_t>& m) -> const std::string& { return m.first; });
    for (const auto& [name, values] : tensors) {
        if (values.rows() > max_u32 || values.cols() > max_u32)
            throw error(fmt::format("etna: cannot save checkpoint '{}': tensor '{}' is {} x {}, but rows and cols are limited to {}",
                                    path, name, values.rows(), values.cols(), max_u32));
    }

    const std::string temporary = path + ".tmp";
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw error(fmt::format("etna: cannot save checkpoint '{}': cannot open '{}' for writing", path, temporary));
    std::error_code ignored;
    try {
        writer file(out);
        file.text(magic);
        file.number(format_version);
        file.number(byte_order_mark);
        file.number(static_cast<std::uint32_t>(tensors.size()));
        file.number(static_cast<std::uint32_t>(metadata.size()));
        for (const auto& [name, value] : metadata) {
            file.name(name);
            file.number(value);
        }
        for (const auto& [name, values] : tensors) {
            file.name(name);
            file.number(float32_type);
            file.number(static_cast<std::uint32_t>(values.rows()));
            file.number(static_cast<std::uint32_t>(values.cols()));
            file.values(values);
        }
        file.finish();
        out.close();
        if (!out) throw error(fmt::format("etna: cannot save checkpoint '{}': writing '{}' failed", path, temporary));
    } catch (...) {
        std::filesystem::remove(temporary, ignored);
        throw;
    }
    std::error_code code;
    std::filesystem::rename(temporary, path, code);
    if (code) {
        std::filesystem::remove(temporary, ignored);
        throw error(fmt::format("etna: cannot save checkpoint '{}': renaming '{}' to it failed: {}", path, temporary,
                                code.message()));
    }
}

// A loaded, validated checkpoint: its tensors in file order and its metadata.
class checkpoint {
public:
    [[nodiscard]] static checkpoint load(const std::string& path);

    [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }

    [[nodiscard]] view<const float> tensor(std::string_view name) const { return tensors_[index_of(name)].view(); }

    [[nodiscard]] bool has_metadata(std::string_view key) const { return metadata_.find(key) != metadata_.end(); }

    // The metadata keys, in lexicographic order.
    [[nodiscard]] std::vector<std::string> metadata_keys() const {
        std::vector<std::string> keys;
        for (const auto& [key, value] : metadata_) keys.push_back(key);
        return keys;
    }

    [[nodiscard]] std::uint64_t metadata(std::string_view key) const {
        const auto found = metadata_.find(key);
        if (found == metadata_.end()) throw error(fmt::format("etna: checkpoint '{}' has no metadata '{}'", path_, key));
        return found->second;
    }

    // Copies every tensor into the target of its name. All or nothing: every target must name a
    // tensor of exactly its shape, and every tensor must have a target, or nothing is copied.
    // A shape mismatch throws shape_error with the first dimension that differs.
    void load_into(const std::vector<named_mutable_view>& targets) const {
        std::set<std::string_view> targeted;
        for (const auto& [name, values] : targets) {
            if (!targeted.insert(name).second)
                throw error(fmt::format("etna: loading checkpoint '{}': tensor '{}' has two targets", path_, name));
            const view<const float> found = tensor(name);
            if (found.rows() != values.rows() || found.cols() != values.cols()) {
                const bool rows_differ = found.rows() != values.rows();
                throw shape_error(name, rows_differ ? values.rows() : values.cols(), rows_differ ? found.rows() : found.cols(),
                                  fmt::format("etna: loading checkpoint '{}': tensor '{}' is {} x {} in the file, expected {} x {}",
                                              path_, name, found.rows(), found.cols(), values.rows(), values.cols()));
            }
        }
        const auto extra = std::find_if(names_.begin(), names_.end(), [&](const std::string& name) { return !targeted.contains(name); });
        if (extra != names_.end())
            throw error(fmt::format("etna: loading checkpoint '{}': tensor '{}' has no target ({} of its {} tensors have none)",
                                    path_, *extra, names_.size() - targets.size(), names_.size()));
        for (const auto& [name, values] : targets) {
            const view<const float> source = tensor(name);
            for (std::size_t r = 0; r < source.rows(); ++r) std::copy_n(source.row(r), source.cols(), values.row(r));
        }
    }

private:
    [[nodiscard]] std::size_t index_of(std::string_view name) const {
        const auto found = index_.find(name);
        if (found == index_.end()) throw error(fmt::format("etna: checkpoint '{}' has no tensor '{}'", path_, name));
        return found->second;
    }

    std::string path_;
    std::vector<std::string> names_;
    std::vector<etna::tensor<float>> tensors_;
    std::map<std::string, std::size_t, std::less<>> index_;
    std::map<std::string, std::uint64_t, std::less<>> metadata_;
};

inline checkpoint checkpoint::load(const std::string& path) {
    using namespace checkpoint_detail;
    reader file(path);
    if (file.size() < header_bytes)
        throw file.corrupt(fmt::format("the file is {} bytes, shorter than the {}-byte header", file.size(), header_bytes));
    std::array<unsigned char, 8> tag{};
    file.read(tag, "the magic");
    if (!std::equal(tag.begin(), tag.end(), magic.begin()))
        throw file.corrupt(fmt::format("not an etna checkpoint (it does not start with \"{}\")", magic));
    const auto version = file.number<std::uint32_t>("the format version");
    if (version != format_version)
        throw file.corrupt(fmt::format("unsupported format version {} (this etna reads version {})", version, format_version));
    const auto mark = file.number<std::uint32_t>("the byte-order mark");
    if (mark != byte_order_mark)
        throw file.corrupt(fmt::format("wrong byte-order mark {:#010x}, expected {:#010x} (0x04030201 means a big-endian writer)",
                                       mark, byte_order_mark));
    const std::uint64_t tensor_count = file.number<std::uint32_t>("the tensor count");
    const std::uint64_t metadata_count = file.number<std::uint32_t>("the metadata count");
    if (tensor_count * min_tensor_bytes + metadata_count * min_metadata_bytes > file.remaining_before_trailer())
        throw file.corrupt(fmt::format("corrupt or truncated: {} tensors and {} metadata entries cannot fit in the {} bytes "
                                       "between the header and the trailer",
                                       tensor_count, metadata_count, file.remaining_before_trailer()));

    checkpoint result;
    result.path_ = path;
    for (std::uint64_t i = 0; i < metadata_count; ++i) {
        std::string name = file.name("metadata");
        const auto value = file.number<std::uint64_t>(fmt::format("the value of metadata '{}'", name));
        if (!result.metadata_.emplace(name, value).second)
            throw file.corrupt(fmt::format("corrupt: duplicate metadata name '{}'", name));
    }
    result.names_.reserve(tensor_count);
    result.tensors_.reserve(tensor_count);
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
        std::string name = file.name("tensor");
        if (result.index_.contains(name)) throw file.corrupt(fmt::format("corrupt: duplicate tensor name '{}'", name));
        const auto type = file.number<std::uint32_t>(fmt::format("the element type of tensor '{}'", name));
        if (type != float32_type)
            throw file.corrupt(fmt::format("tensor '{}' has unknown element type {} (version {} knows only {}, float32)", name,
                                           type, format_version, float32_type));
        const std::uint64_t rows = file.number<std::uint32_t>(fmt::format("the rows of tensor '{}'", name));
        const std::uint64_t cols = file.number<std::uint32_t>(fmt::format("the cols of tensor '{}'", name));
        if (rows * cols > file.remaining_before_trailer() / sizeof(float))
            throw file.corrupt(fmt::format("corrupt or truncated: tensor '{}' of {} x {} floats cannot fit in the {} bytes "
                                           "before the trailer",
                                           name, rows, cols, file.remaining_before_trailer()));
        etna::tensor<float> values(rows, cols);
        file.floats(values.data(), rows * cols);
        result.index_.emplace(name, result.names_.size());
        result.names_.push_back(std::move(name));
        result.tensors_.push_back(std::move(values));
    }

    const std::uint64_t computed = file.checksum();
    const auto stored = file.number<std::uint64_t>("the checksum");
    const std::uint64_t marker_offset = file.offset();
    file.read(tag, "the end marker");
    if (!std::equal(tag.begin(), tag.end(), end_marker.begin()))
        throw file.corrupt(fmt::format("missing end marker \"{}\" at offset {}", end_marker, marker_offset));
    if (file.remaining() != 0)
        throw file.corrupt(fmt::format("{} trailing bytes after the end marker", file.remaining()));
    if (stored != computed)
        throw file.corrupt(fmt::format("corrupt: checksum {:#018x} stored, {:#018x} computed from the contents", stored, computed));
    return result;
}

}  // namespace etna
