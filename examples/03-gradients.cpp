// Lesson 03: gradients: the LayerNorm backward derived at compile time, and why pre-norm trains deep.
//
// This lesson derives the gradient of LayerNorm with grad(), prints the formula etna found and
// the plan of its fused kernel, compares it with the textbook formula and checks it against
// finite differences. It builds the training pair of LayerNorm with vjp(): a forward that saves
// the row statistics and a backward that reads them. Then it stacks 12 pre-norm and 12
// post-norm blocks and follows the gradient from the top of each stack down to its input. It is built as the target
// 03-gradients and run by ctest as tutorial.03-gradients; docs/tutorial/03-gradients.md quotes
// its source and output.

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <etna/etna.hpp>

using namespace etna;

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

// Deterministic data: values of mean `mean` and spread about `spread`.
tensor<double> filled(std::size_t rows, std::size_t cols, unsigned seed, double mean, double spread) {
    tensor<double> t(rows, cols);
    for (std::size_t i = 0; i < t.size(); ++i)
        t.data()[i] = mean + spread * std::sin(0.7 * static_cast<double>(i) + 1.3 * seed) * std::cos(0.11 * i * seed);
    return t;
}

double largest_difference(view<const double> a, view<const double> c) {
    double largest = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t k = 0; k < a.cols(); ++k) largest = std::fmax(largest, std::fabs(a(r, k) - c(r, k)));
    return largest;
}

// The root-mean-square of a tensor: a gradient's size per element.
double rms(view<const double> a) {
    double sum = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t k = 0; k < a.cols(); ++k) sum += a(r, k) * a(r, k);
    return std::sqrt(sum / static_cast<double>(a.rows() * a.cols()));
}

int main() {
    int failures = 0;
    constexpr std::size_t tokens = 64;
    constexpr std::size_t features = 96;
    const tensor<double> X = filled(tokens, features, 1, 0.5, 2.0);
    const tensor<double> G = filled(1, features, 2, 1.0, 0.3);
    const tensor<double> B = filled(1, features, 3, 0.0, 0.3);
    const tensor<double> DY = filled(tokens, features, 4, 0.0, 1.0);

    // 1. Deriving the LayerNorm backward.
    fmt::print("== the derived LayerNorm backward\n");
    //! [derive]
    constexpr auto y = layer_norm(x, g, b);
    constexpr auto dy = input<"dy">;
    constexpr auto backward = grad(y, wrt(x, g, b));  // seeded by dy, the gradient with respect to y
    fmt::print("{}\n", backward);
    //! [derive]

    // 2. Its plan.
    fmt::print("\n== its plan\n");
    //! [plan]
    auto backward_kernel = compile(backward);
    fmt::print("{}", explain(backward_kernel));
    static_assert(decltype(backward_kernel)::plan.loop_nests() == 1);
    static_assert(decltype(backward_kernel)::plan.loops[0] == 3);
    //! [plan]

    // 3. The textbook formula, written by hand as an expression.
    fmt::print("\n== against the textbook\n");
    //! [textbook]
    constexpr auto mu = mean_f(x);
    constexpr auto rstd = rsqrt(mean_f(square(x - mu)) + constant<1e-5>);
    constexpr auto xhat = (x - mu) * rstd;
    constexpr auto dxhat = dy * g;
    constexpr auto textbook = outputs(rstd * (dxhat - mean_f(dxhat) - xhat * mean_f(dxhat * xhat)),  // dx
                                      sum_t(dy * xhat),                                              // dgamma
                                      sum_t(dy));                                                    // dbeta
    const auto [dx, dg, db] = backward_kernel(x = X, g = G, dy = DY);
    const auto [tx, tg, tb] = interpret<double>(textbook, x = X, g = G, dy = DY);
    fmt::print("largest difference: dx {:.1e}, dgamma {:.1e}, dbeta {:.1e}\n", largest_difference(dx.view(), tx.view()),
               largest_difference(dg.view(), tg.view()), largest_difference(db.view(), tb.view()));
    //! [textbook]
    failures += largest_difference(dx.view(), tx.view()) > 1e-12 || largest_difference(dg.view(), tg.view()) > 1e-12 ||
                largest_difference(db.view(), tb.view()) > 1e-12;

    // 4. Finite differences.
    fmt::print("\n== finite differences\n");
    //! [check]
    const gradient_check_result check = check_gradient(y, wrt(x, g, b), x = X, g = G, b = B);
    fmt::print("{}passed: {}\n", check.report, check.passed ? "yes" : "no");
    //! [check]
    failures += !check.passed;

    // 5. The training pair.
    fmt::print("\n== the training pair\n");
    //! [pair]
    auto pair = vjp(y, wrt(x, g, b));
    fmt::print("{}", explain(pair));
    const tensor<double> Y = pair.forward(x = X, g = G, b = B);  // y; keeps the row mean and rstd
    const auto [px, pg, pb] = pair.backward(x = X, g = G, b = B, dy = DY);
    fmt::print("largest difference from grad's kernel: dx {:.1e}, dgamma {:.1e}, dbeta {:.1e}\n",
               largest_difference(px.view(), dx.view()), largest_difference(pg.view(), dg.view()),
               largest_difference(pb.view(), db.view()));
    static_assert(decltype(pair)::saved_count == 2);
    static_assert(fuse::plan_of<decltype(pair)::backward_graph>.loops[0] == 2);
    //! [pair]
    failures += largest_difference(px.view(), dx.view()) > 1e-12 || largest_difference(pg.view(), dg.view()) > 1e-12 ||
                largest_difference(pb.view(), db.view()) > 1e-12;
    failures += largest_difference(Y.view(), compile(y)(x = X, g = G, b = B).view()) != 0;

    // 6. Twelve blocks of each kind. One block maps the stream h to the next stream; its
    // backward maps the gradient with respect to its output to the gradient with respect to h.
    // Every block shares g and b here: the point is the path the gradient takes, not the
    // parameters.
    fmt::print("\n== the gradient through 12 blocks\n");
    //! [stack]
    constexpr auto h = input<"h">;
    constexpr auto norm = [](auto v) { return layer_norm(v, g, b); };
    constexpr auto sublayer = [](auto v) { return gelu(v); };
    constexpr auto pre = pre_norm(h, norm, sublayer);    // h + F(LN(h))
    constexpr auto post = post_norm(h, norm, sublayer);  // LN(h + F(h))
    fmt::print("pre-norm block backward:  {}\n", grad(pre, wrt(h)));

    // One training pair per block: its forward keeps that block's statistics for its backward.
    const auto gradient_sizes = [&](auto block) {
        std::vector<decltype(vjp(block, wrt(h)))> blocks(12);
        std::vector<tensor<double>> stream;  // the input of each block
        stream.push_back(tensor<double>::copy_of(X.view()));
        for (auto& one : blocks) stream.push_back(one.forward(h = stream.back(), g = G, b = B));
        std::vector<double> sizes{rms(DY.view())};  // at the top of the stack
        tensor<double> gradient = tensor<double>::copy_of(DY.view());
        for (int k = 11; k >= 0; --k) {
            auto [dh] = blocks[k].backward(h = stream[k], g = G, b = B, dy = gradient);
            gradient = std::move(dh);
            sizes.push_back(rms(gradient.view()));
        }
        return sizes;
    };
    const std::vector<double> through_pre = gradient_sizes(pre);
    const std::vector<double> through_post = gradient_sizes(post);
    fmt::print("blocks below the top   pre-norm   post-norm\n");
    for (std::size_t k = 0; k < through_pre.size(); ++k)
        fmt::print("{:>19}   {:>8.4f}   {:>9.2e}\n", k, through_pre[k], through_post[k]);
    //! [stack]
    // Pre-norm: the top gradient reaches every block's input through the residual path, and
    // the gradient's size never falls below it. Post-norm: every block's LayerNorm rescales it,
    // and within a few blocks it falls well below the top's size.
    bool never_below_top = true;
    for (const double size : through_pre) never_below_top = never_below_top && size >= through_pre.front();
    double smallest_post = through_post.front();
    for (const double size : through_post) smallest_post = std::fmin(smallest_post, size);
    failures += !(never_below_top && smallest_post < 0.5 * through_post.front());

    if (failures != 0) fmt::print("\n{} check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
}
