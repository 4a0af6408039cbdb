// The random graph types of all parts: at least 200, pairwise distinct, together holding every node kind and op;
// the gradient-checked ones together holding every node kind and op too.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "check.hpp"
#include "gradients.hpp"

using namespace etna::testing;
using namespace etna::testing::random_check;

namespace {

// The ops of ops/ the generator uses, as printed formulas show them.
constexpr std::pair<std::string_view, std::string_view> ops[] = {
    {"layer_norm or rms_norm", "rsqrt(mean_f("},
    {"batch_norm", "rsqrt(mean_t("},
    {"batch_norm_masked", ", m) + 1e-05)"},
    {"gelu", "* 0.7071067811865476)"},
    {"gelu_tanh", "0.044715"},
    {"sigmoid or silu", "1 / (1 + exp(-"},
    {"relu", ", 0)"},
};

}  // namespace

TEST_CASE("random graphs: at least 200 distinct graph types cover every node kind in 10^5 cases", "[random]") {
    const auto& graphs = registry();
    std::set<std::uint64_t> hashes;
    std::uint64_t features = 0;
    for (const auto& g : graphs) {
        INFO("seed " << g.seed << ":\n" << g.formula);
        CHECK(hashes.insert(g.hash).second);
        features |= g.features;
    }
    const auto cases = static_cast<long long>(graphs.size()) * cases_per_graph;
    fmt::print("random graphs: {} distinct graph types in {} parts, {} graph x input cases\n", hashes.size(), parts,
               cases);
    CHECK(hashes.size() >= 200);
    CHECK(cases >= 100'000);

    // Every graph_feature in some graph.
    for (int bit = 0; bit < 64; ++bit) {
        const std::uint64_t feature = std::uint64_t{1} << bit;
        if ((all_graph_features & feature) == 0) continue;
        INFO("graph_feature bit " << bit << " (see random_graph.hpp) is in no random graph");
        CHECK((features & feature) != 0);
    }

    // Every op of ops/ the generator uses in some graph, recognized in the printed formulas.
    for (const auto& [op, signature] : ops) {
        bool found = false;
        for (const auto& g : graphs) found = found || g.formula.find(signature) != std::string::npos;
        INFO(op << " (printed with \"" << signature << "\") is in no random graph");
        CHECK(found);
    }
}

TEST_CASE("random gradients: the gradient-checked graphs together hold every node kind and op", "[random]") {
    const auto& graphs = gradient_registry();
    std::set<std::uint64_t> seeds;
    std::uint64_t features = 0;
    std::size_t nodes = 0;
    std::size_t gradient_nodes = 0;
    int broadcasting = 0;
    for (const auto& g : graphs) {
        CHECK(seeds.insert(g.seed).second);
        features |= g.features;
        nodes += g.nodes;
        gradient_nodes += g.gradient_nodes;
        broadcasting += g.broadcasts;
    }
    fmt::print("random gradients: {} graphs of {} nodes in all, their gradients {} nodes ({} with a broadcast)\n",
               graphs.size(), nodes, gradient_nodes, broadcasting);
    // broadcast, the node kind only derived graphs hold, in some of them.
    CHECK(broadcasting > 0);
    CHECK(graphs.size() == gradient_seeds.size() - gradient_excluded_seeds.size());
    for (int bit = 0; bit < 64; ++bit) {
        const std::uint64_t feature = std::uint64_t{1} << bit;
        if ((all_graph_features & feature) == 0) continue;
        INFO("graph_feature bit " << bit << " (see random_graph.hpp) is in no gradient-checked graph: choose "
                                         "gradient_seeds (gradients.hpp) again");
        CHECK((features & feature) != 0);
    }
    for (const auto& [op, signature] : ops) {
        bool found = false;
        for (const auto& g : graphs) found = found || g.formula.find(signature) != std::string::npos;
        INFO(op << " (printed with \"" << signature << "\") is in no gradient-checked graph: choose gradient_seeds "
                   "(gradients.hpp) again");
        CHECK(found);
    }
}
