// Graphs: identity is type identity, unique nodes in topological order, use counts, deep DAGs.
#include <cstddef>
#include <type_traits>

#include <boost/hana/for_each.hpp>
#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/deep_chain.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

// Every node stands after all of its operands.
template <class G>
consteval bool operands_come_first() {
    using nodes = topological_nodes_t<G>;
    bool ok = true;
    boost::hana::for_each(nodes{}, [&](auto node) {
        using E = typename decltype(node)::type;
        boost::hana::for_each(E::operands, [&](auto operand) {
            ok = ok && index_in<typename decltype(operand)::type>(nodes{}) < index_in<E>(nodes{});
        });
    });
    return ok;
}


}  // namespace

TEST_CASE("graphs are constexpr values of empty literal types", "[graph]") {
    constexpr auto y = layer_norm(x, g, b);
    STATIC_REQUIRE(std::is_empty_v<decltype(y)>);
    STATIC_REQUIRE(std::is_trivially_copyable_v<decltype(y)>);
    STATIC_REQUIRE(expression<decltype(y)>);
}

TEST_CASE("equal sub-expressions are the same type", "[graph]") {
    STATIC_REQUIRE(std::is_same_v<decltype(x - mean_f(x)), decltype(input<"x"> - mean_f(input<"x">))>);
    STATIC_REQUIRE(!std::is_same_v<decltype(x - mean_f(x)), decltype(x - mean_t(x))>);
    STATIC_REQUIRE(!std::is_same_v<decltype(constant<1.0>), decltype(constant<2.0>)>);
}

TEST_CASE("LayerNorm has 16 unique nodes, each after its operands", "[graph]") {
    // x, sum_f(x), D, mean, x - mean, square, sum_f, mean, eps, + eps, rsqrt, *, g, *, b, +
    using y = decltype(layer_norm(x, g, b));
    STATIC_REQUIRE(node_count<y> == 16);
    STATIC_REQUIRE(operands_come_first<y>());
    STATIC_REQUIRE(index_in<decltype(x)>(topological_nodes_t<y>{}) == 0);
}

TEST_CASE("use counts count operand slots and outputs", "[graph]") {
    constexpr auto centred = x - mean_f(x);
    using y = decltype(centred * centred + centred);
    using nodes = topological_nodes_t<y>;
    STATIC_REQUIRE(use_counts<y>[index_in<decltype(centred)>(nodes{})] == 3);
    STATIC_REQUIRE(use_counts<y>[index_in<decltype(x)>(nodes{})] == 2);
    STATIC_REQUIRE(use_counts<y>[index_in<y>(nodes{})] == 1);

    using both = decltype(outputs(centred, centred * centred));
    STATIC_REQUIRE(node_count<both> == node_count<decltype(centred * centred)>);
    STATIC_REQUIRE(use_counts<both>[index_in<decltype(centred)>(topological_nodes_t<both>{})] == 3);
}

TEST_CASE("a deep chain of shared sub-expressions is a DAG, not a tree", "[graph]") {
    // 2^48 paths from the output to x: a tree walk would never finish compiling.
    using deep = decltype(etna::testing::deep_chain<48>(x));
    STATIC_REQUIRE(node_count<deep> == 97);
    STATIC_REQUIRE(operands_come_first<deep>());
}

TEST_CASE("leaves_of lists each leaf once, in topological order", "[graph]") {
    constexpr auto leaves = leaves_of(layer_norm(x, g, b) + x);
    using expected = std::remove_const_t<decltype(boost::hana::tuple_t<std::remove_const_t<decltype(x)>, std::remove_const_t<decltype(g)>,
                                                                      std::remove_const_t<decltype(b)>>)>;
    STATIC_REQUIRE(std::is_same_v<std::remove_const_t<decltype(leaves)>, expected>);
}
