// program: what the planner makes of a graph, the one value that cpu/ runs and io/ prints.
#pragma once

#include <boost/hana/any_of.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/graph.hpp>
#include <etna/fuse/plan.hpp>
#include <etna/fuse/tiles.hpp>

namespace etna::fuse {

template <class G>
inline constexpr bool has_contraction = decltype(boost::hana::any_of(topological_nodes_t<G>{}, [](auto node) {
    return boost::hana::bool_c<is_contraction<typename decltype(node)::type>>;
}))::value;

// The program of graph G. Without contractions: loop nests over tokens (plan, fuse/plan.hpp).
// With them: tiles of tokens, each run as stages of a nest and GEMMs (tiling, fuse/tiles.hpp),
// the nests being programs of their own graphs (void* where there is none).
template <class G>
struct program {
    using graph = G;
    static constexpr bool tiled = false;
    static constexpr auto& plan = plan_of<G>;
    // Loop nests run every graph without contractions (what tiles cannot run: fuse/tiles.hpp).
    static constexpr bool multiplies_by_leaves = true;
    static constexpr bool token_sums_reach_no_token = true;
};

template <class G>
    requires has_contraction<G>
struct program<G> {
    using graph = G;
    static constexpr bool tiled = true;
    using tiling = fuse::tiling<G>;
    template <int S>
    using stage_graph = decltype(fuse::stage_graph<tiling, S>());
    using last_graph = decltype(fuse::last_graph<tiling>());
    using whole_graph = decltype(fuse::whole_graph<tiling>());
    static constexpr bool multiplies_by_leaves = tiling::multiplies_by_leaves();
    static constexpr bool token_sums_reach_no_token = tiling::token_sums_reach_no_token();
};

}  // namespace etna::fuse
