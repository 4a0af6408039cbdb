// compile(outputs...): a kernel computing one or more outputs: the program the planner makes of
// them (fuse/program.hpp), run on the CPU (cpu/kernel.hpp).
#pragma once

#include <etna/cpu/kernel.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/node.hpp>

namespace etna {

// compile(y) returns a kernel whose call returns a tensor; compile(a, b, ...) or
// compile(outputs(a, b, ...)) one whose call returns a std::tuple of tensors.
template <expression Out>
constexpr kernel<Out> compile(Out) {
    return {};
}

template <expression First, expression... Rest>
    requires(sizeof...(Rest) > 0)
constexpr kernel<graph<First, Rest...>> compile(First, Rest...) {
    return {};
}

template <expression... Outs>
constexpr kernel<graph<Outs...>> compile(graph<Outs...>) {
    return {};
}

}  // namespace etna
