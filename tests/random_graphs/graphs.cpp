// One part of the random graphs (compiled once per part): their kernels against the interpreter.
#include "check.hpp"

#ifndef ETNA_RANDOM_GRAPHS_PART
#error "ETNA_RANDOM_GRAPHS_PART (which part of the seeds this object checks) must be defined"
#endif

#define ETNA_STRINGIFY_IMPL(x) #x
#define ETNA_STRINGIFY(x) ETNA_STRINGIFY_IMPL(x)

namespace {

using namespace etna::testing::random_check;

constexpr int part = ETNA_RANDOM_GRAPHS_PART;
static_assert(part >= 0 && part < parts, "ETNA_RANDOM_GRAPHS_PART must be one of the parts CMakeLists.txt sets");

// The part's graph types, known to the whole program before any test runs (graph_types.cpp).
const bool registered = register_graphs(seeds_of_part<part>());

}  // namespace

#define ETNA_RANDOM_GRAPHS_PART_NAME "random graphs part " ETNA_STRINGIFY(ETNA_RANDOM_GRAPHS_PART)

TEST_CASE(ETNA_RANDOM_GRAPHS_PART_NAME ": each kernel equals the interpreter and is deterministic", "[random]") {
    REQUIRE(registered);
    check_random_graphs<part>(seeds_of_part<part>());
}
