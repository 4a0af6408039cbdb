// compile(outputs...): a kernel computing one or more outputs in one fused pass.
#pragma once

#include <type_traits>

#include <boost/hana/any_of.hpp>

#include <etna/cpu/kernel.hpp>
#include <etna/cpu/tiled_kernel.hpp>
#include <etna/expr/contraction.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/node.hpp>

namespace etna {

template <class G>
inline constexpr bool has_contraction = decltype(boost::hana::any_of(topological_nodes_t<G>{}, [](auto node) {
    return boost::hana::bool_c<is_contraction<typename decltype(node)::type>>;
}))::value;

// The kernel of graph G: fused loop nests (cpu/kernel.hpp), or, for a graph with linear layers,
// those nests run over tiles of tokens between GEMMs (cpu/tiled_kernel.hpp).
template <class G>
using compiled_t = std::conditional_t<has_contraction<G>, tiled_kernel<G>, kernel<G>>;

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
