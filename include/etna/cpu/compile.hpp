// compile(outputs...): a kernel computing one or more outputs in one fused pass.
#pragma once

#include <type_traits>

#include <etna/cpu/kernel.hpp>
#include <etna/cpu/tiled_kernel.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/node.hpp>
#include <etna/fuse/program.hpp>

namespace etna {

// The kernel of graph G, which runs its program (fuse/program.hpp): fused loop nests
// (cpu/kernel.hpp), or, for a graph with linear layers, those nests run over tiles of tokens
// between GEMMs (cpu/tiled_kernel.hpp).
template <class G>
using compiled_t = std::conditional_t<fuse::program<G>::tiled, tiled_kernel<G>, kernel<G>>;

// compile(y) returns a kernel whose call returns a tensor; compile(a, b, ...) or
// compile(outputs(a, b, ...)) one whose call returns a std::tuple of tensors.
template <expression Out>
constexpr compiled_t<Out> compile(Out) {
    return {};
}

template <expression First, expression... Rest>
    requires(sizeof...(Rest) > 0)
constexpr compiled_t<graph<First, Rest...>> compile(First, Rest...) {
    return {};
}

template <expression... Outs>
constexpr compiled_t<graph<Outs...>> compile(graph<Outs...>) {
    return {};
}

}  // namespace etna
