// One part of the random gradients (compiled once per gradient part): finite differences, and the derived kernels.
#include "gradients.hpp"

#ifndef ETNA_RANDOM_GRADIENTS_PART
#error "ETNA_RANDOM_GRADIENTS_PART (which part of the gradient seeds this object checks) must be defined"
#endif

#define ETNA_STRINGIFY_IMPL(x) #x
#define ETNA_STRINGIFY(x) ETNA_STRINGIFY_IMPL(x)

namespace {

using namespace etna::testing::random_check;

constexpr int part = ETNA_RANDOM_GRADIENTS_PART;
static_assert(part >= 0 && part < gradient_parts,
              "ETNA_RANDOM_GRADIENTS_PART must be one of the gradient parts CMakeLists.txt sets");

// The part's graphs, known to the whole program before any test runs (graph_types.cpp).
const bool registered = register_gradients(gradient_seeds_of_part<part>());

}  // namespace

#define ETNA_RANDOM_GRADIENTS_PART_NAME "random gradients part " ETNA_STRINGIFY(ETNA_RANDOM_GRADIENTS_PART)

TEST_CASE(ETNA_RANDOM_GRADIENTS_PART_NAME
          ": derived gradients pass finite differences, their float kernels equal the interpreter",
          "[random]") {
    REQUIRE(registered);
    check_random_gradients<part>(gradient_seeds_of_part<part>());
}
