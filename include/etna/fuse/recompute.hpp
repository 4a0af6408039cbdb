// Save or recompute: which forward values a training forward writes for its backward, the
// planner's policy for the symbolic split of a training pair (autodiff/split.hpp).
#pragma once

#include <type_traits>

#include <boost/hana/tuple.hpp>

#include <etna/autodiff/split.hpp>
#include <etna/expr/contraction.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/reduction.hpp>

namespace etna::fuse {

// Whether computing E takes a reduction: a pass over data, and a loop phase of its own.
template <class E>
constexpr bool needs_reduction() {
    if constexpr (is_reduction<E>) return true;
    else
        return []<class... Operands>(boost::hana::tuple<Operands...>) {
            return (needs_reduction<typename Operands::type>() || ...);
        }(typename operands_of<E>::type{});
}

// A forward value the backward reads is saved by the training forward when it is not Act and
// takes a reduction (a row mean, an rstd, a batch mean): at most T + D numbers to write and
// read back, where recomputing them would cost the backward a pass over the data and a loop
// phase (or, over tokens, a barrier). Act values are recomputed: saving one writes and reads
// T x D numbers, more than recomputing it from the data the backward reads anyway costs. Values
// without a reduction are recomputed too: they are arithmetic on leaves.
// The exception is a matmul's result (a linear layer's, such as the GELU input of an FFN):
// recomputing it is a GEMM, 2 x D_in flops per element where saving it costs 8 bytes of traffic
// (measured in bench/README.md, "Save or recompute").
template <class E>
inline constexpr bool worth_saving =
    is_matmul<E> || (!(kind_of<E>::has_tokens && kind_of<E>::has_features) && needs_reduction<E>());

template <class E>
struct worth_saving_t : std::bool_constant<worth_saving<E>> {};

// The split of a training pair (autodiff/split.hpp) that saves what is worth saving.
template <class Out, class Wrt, class Seeds>
using pair_split_t = autodiff::split<Out, Wrt, Seeds, worth_saving_t>;

}  // namespace etna::fuse
