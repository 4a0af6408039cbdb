// A check shared by the tests of run-time size errors.
#pragma once

#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

#include <etna/runtime/error.hpp>

namespace etna::testing {

// Runs `call` and checks that it throws a shape_error with exactly these fields and message.
template <class Call>
void require_shape_error(Call call, const std::string& argument, std::size_t expected, std::size_t actual,
                         const std::string& message) {
    try {
        call();
        FAIL("no shape_error was thrown");
    } catch (const shape_error& e) {
        CHECK(std::string(e.what()) == message);
        CHECK(e.leaf() == argument);
        CHECK(e.expected() == expected);
        CHECK(e.actual() == actual);
    }
}

}  // namespace etna::testing
