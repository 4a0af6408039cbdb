// random: a seeded stream of uniform and normal numbers, the same on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

// splitmix64 as a stream, normal samples by Box-Muller: the numbers depend on the seed only
// (not on the standard library, whose distributions are implementation-defined).
struct normal_stream {
    std::uint64_t state;

    double next_normal() {
        const double u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
    }
    // In [0, 1).
    double uniform() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
    }
    tensor<double> normal_like(view<const double> shape) {
        tensor<double> t(shape.rows(), shape.cols());
        for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = next_normal();
        return t;
    }
};

// A seed for the stream of one named object (a parameter) of a run seeded `seed`: streams of
// different names are independent, and a name's stream does not depend on what else exists.
inline std::uint64_t seed_for(std::uint64_t seed, std::string_view name) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64
    for (const char c : name) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return seed ^ (hash * 0x9e3779b97f4a7c15ULL);
}

}  // namespace etna
