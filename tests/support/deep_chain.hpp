// A deep DAG for tests: each level computes w * w + w from the level below.
#pragma once

#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>

namespace etna::testing {

// Depth levels over v: 2 * Depth + 1 unique nodes but 2^Depth paths from the output to v, so
// anything that walks it as a tree (to compile, print or evaluate it) never finishes.
template <int Depth, expression E>
constexpr auto deep_chain(E v) {
    if constexpr (Depth == 0) {
        return v;
    } else {
        constexpr auto w = deep_chain<Depth - 1>(E{});
        return w * w + w;
    }
}

}  // namespace etna::testing
