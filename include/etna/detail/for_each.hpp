// Compile-time loops: over a graph's nodes with their positions, and over 0 .. N - 1.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>

namespace etna::detail {

// f(std::integral_constant<std::size_t, I>{}, (Node*)nullptr) for each node of Nodes (a
// hana::tuple of hana::type), I its position.
template <class... Types, class F, std::size_t... I>
constexpr void for_each_node(boost::hana::tuple<Types...>, std::index_sequence<I...>, F&& f) {
    (f(std::integral_constant<std::size_t, I>{}, static_cast<typename Types::type*>(nullptr)), ...);
}

template <class Nodes, class F>
constexpr void for_each_node(F&& f) {
    for_each_node(Nodes{}, std::make_index_sequence<decltype(boost::hana::length(Nodes{}))::value>{}, f);
}

// f(std::integral_constant<std::size_t, I>{}) for I in the sequence.
template <class F, std::size_t... I>
constexpr void repeat(std::index_sequence<I...>, F&& f) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
}

}  // namespace etna::detail
