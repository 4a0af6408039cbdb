// stream: stores that bypass the caches, for outputs too large to stay in them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <type_traits>

#include <unistd.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

// An ordinary store first reads the line it writes (read for ownership): writing an output
// costs two transfers, a non-temporal store one. Worth it only for outputs that would not stay
// in the cache anyway: a kernel streams when its Act outputs are larger than the last level.

namespace etna::cpu {

// The last level's size as Linux describes cpu0's caches (sysconf may report a whole socket's,
// of which a core sees a part).
inline std::size_t last_level_cache_bytes() {
    static const std::size_t bytes = [] {
        std::size_t largest = 0;
        for (int index = 0; index < 8; ++index) {
            std::ifstream file("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
            std::size_t size = 0;
            std::string unit;
            if (!(file >> size)) continue;
            file >> unit;
            largest = std::max(largest, unit == "M" ? size << 20 : unit == "K" ? size << 10 : size);
        }
        if (largest > 0) return largest;
        const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
        return l3 > 0 ? static_cast<std::size_t>(l3) : std::size_t{32} << 20;
    }();
    return bytes;
}

// Whether a tile of `bytes` bytes at p can be streamed: whole cache lines, aligned.
inline bool streamable(const void* p, std::size_t bytes) {
    return reinterpret_cast<std::uintptr_t>(p) % 64 == 0 && bytes % 64 == 0;
}

// Copies n values from `from` to the aligned `to` with non-temporal stores (plain stores where
// the target has none). n * sizeof(T) is a multiple of 64.
template <class T>
inline void stream_copy(T* to, const T* from, std::size_t n) {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
        for (std::size_t l = 0; l < n; l += 16) _mm512_stream_ps(to + l, _mm512_loadu_ps(from + l));
    else if constexpr (std::is_same_v<T, double>)
        for (std::size_t l = 0; l < n; l += 8) _mm512_stream_pd(to + l, _mm512_loadu_pd(from + l));
    else
#elif defined(__AVX__)
    if constexpr (std::is_same_v<T, float>)
        for (std::size_t l = 0; l < n; l += 8) _mm256_stream_ps(to + l, _mm256_loadu_ps(from + l));
    else if constexpr (std::is_same_v<T, double>)
        for (std::size_t l = 0; l < n; l += 4) _mm256_stream_pd(to + l, _mm256_loadu_pd(from + l));
    else
#elif defined(__SSE2__)
    if constexpr (std::is_same_v<T, float>)
        for (std::size_t l = 0; l < n; l += 4) _mm_stream_ps(to + l, _mm_loadu_ps(from + l));
    else if constexpr (std::is_same_v<T, double>)
        for (std::size_t l = 0; l < n; l += 2) _mm_stream_pd(to + l, _mm_loadu_pd(from + l));
    else
#endif
        for (std::size_t l = 0; l < n; ++l) to[l] = from[l];
}

// Orders this thread's non-temporal stores before what follows (they are weakly ordered).
inline void stream_fence() {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

}  // namespace etna::cpu
