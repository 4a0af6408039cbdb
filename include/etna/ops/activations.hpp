// Activations as compositions of primitives: square, sigmoid, relu, silu, gelu (erf and tanh forms).
#pragma once

#include <etna/expr/literal.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>

namespace etna {

template <expression E>
constexpr auto square(E x) { return x * x; }

// 1 / (1 + exp(-x)): exp overflows to inf for x < -88 (float), and 1 / inf is the right limit, 0.
template <expression E>
constexpr auto sigmoid(E x) { return constant<1.0> / (constant<1.0> + exp(-x)); }

template <expression E>
constexpr auto relu(E x) { return max(x, constant<0.0>); }

// x * sigmoid(x), also called swish.
template <expression E>
constexpr auto silu(E x) { return x * sigmoid(x); }

// The exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), as PyTorch's gelu(approximate='none').
template <expression E>
constexpr auto gelu(E x) {
    constexpr double inv_sqrt2 = 0.70710678118654752440;
    return constant<0.5> * x * (constant<1.0> + erf(x * constant<inv_sqrt2>));
}

// The tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 and
// PyTorch's gelu(approximate='tanh').
template <expression E>
constexpr auto gelu_tanh(E x) {
    constexpr double sqrt_2_over_pi = 0.79788456080286535588;
    return constant<0.5> * x * (constant<1.0> + tanh(constant<sqrt_2_over_pi> * (x + constant<0.044715> * x * x * x)));
}

}  // namespace etna
