// A fixture for includes.cmake's self-test: an expr/ header that includes a later stage.
#pragma once

#include <etna/expr/node.hpp>
#include <etna/cpu/kernel.hpp>
