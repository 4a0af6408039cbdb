// The random graph types of all parts: at least 200, pairwise distinct, together holding every node kind and op.
#include <cstdint>
#include <set>
#include <string_view>
#include <utility>

#include "check.hpp"

using namespace etna::testing;
using namespace etna::testing::random_check;

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
    constexpr std::pair<std::string_view, std::string_view> ops[] = {
        {"layer_norm or rms_norm", "rsqrt(mean_f("},
        {"batch_norm", "rsqrt(mean_t("},
        {"batch_norm_masked", ", m) + 1e-05)"},
        {"gelu", "* 0.7071067811865476)"},
        {"gelu_tanh", "0.044715"},
        {"sigmoid or silu", "1 / (1 + exp(-"},
        {"relu", ", 0)"},
    };
    for (const auto& [op, signature] : ops) {
        bool found = false;
        for (const auto& g : graphs) found = found || g.formula.find(signature) != std::string::npos;
        INFO(op << " (printed with \"" << signature << "\") is in no random graph");
        CHECK(found);
    }
}
