// Residual blocks: residual, pre_norm and post_norm, taking the norm and the sublayer as callables.
#pragma once

#include <concepts>
#include <type_traits>

#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>

namespace etna {

// F maps an expression of X's kind to an expression of the same kind (a norm or a sublayer).
template <class F, class X>
concept kind_preserving = std::invocable<const F&, X> && expression<std::invoke_result_t<const F&, X>> &&
                          std::is_same_v<kind_of<std::invoke_result_t<const F&, X>>, kind_of<X>>;

// x + sublayer(x)
template <expression X, class Sublayer>
constexpr auto residual(X x, const Sublayer& sublayer) {
    static_assert(kind_preserving<Sublayer, X>,
                  "etna: residual(x, sublayer): sublayer(x) must be an expression of x's kind");
    return x + sublayer(x);
}

// Pre-norm (modern LLMs): y = x + sublayer(norm(x)). The residual path from x to y is a plain
// add, so the gradient reaches x unchanged however deep the stack.
template <expression X, class Norm, class Sublayer>
constexpr auto pre_norm(X x, const Norm& norm, const Sublayer& sublayer) {
    static_assert(kind_preserving<Norm, X>, "etna: pre_norm(x, norm, sublayer): norm(x) must be an expression of x's kind");
    static_assert(kind_preserving<Sublayer, std::invoke_result_t<const Norm&, X>>,
                  "etna: pre_norm(x, norm, sublayer): sublayer(norm(x)) must be an expression of x's kind");
    return x + sublayer(norm(x));
}

// Post-norm (the 2017 transformer): y = norm(x + sublayer(x)). Every block's output passes
// through a norm, so does the gradient on its way down the stack.
template <expression X, class Norm, class Sublayer>
constexpr auto post_norm(X x, const Norm& norm, const Sublayer& sublayer) {
    static_assert(kind_preserving<Sublayer, X>,
                  "etna: post_norm(x, norm, sublayer): sublayer(x) must be an expression of x's kind");
    static_assert(kind_preserving<Norm, X>, "etna: post_norm(x, norm, sublayer): norm(x) must be an expression of x's kind");
    return norm(residual(x, sublayer));
}

}  // namespace etna
