// Derived backward graphs plan like hand-written ones: the LayerNorm backward is one nest whose
// loops over features are two reduction phases and one write.
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <etna/etna.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;
constexpr auto g = param<"g">;
constexpr auto b = param<"b">;

// Loop p of nest 0 writes no Act output of the plan.
template <class P>
constexpr bool writes_no_act_output_in(const P& plan, int loop) {
    for (std::size_t o = 0; o < plan.output_count; ++o) {
        const int i = plan.outputs[o];
        if (plan.is_act(i) && (plan.element[0][i] & fuse::passes::bit(loop)) != 0) return false;
    }
    return true;
}

template <class P>
constexpr bool is_sum_over_tokens(const P& plan, std::size_t output) {
    return plan.info[plan.outputs[output]].what == fuse::category::reduce_tokens;
}

}  // namespace

TEST_CASE("the derived LayerNorm backward plans to one nest: two reduction loops and one write", "[plan][grad]") {
    constexpr auto dln = grad(layer_norm(x, g, b), wrt(x, g, b));
    constexpr auto plan = fuse::plan_of<std::remove_cv_t<decltype(dln)>>;
    STATIC_REQUIRE(plan.loop_nests() == 1);
    STATIC_REQUIRE(plan.loops[0] == 3);
    STATIC_REQUIRE(writes_no_act_output_in(plan, 0));
    STATIC_REQUIRE(writes_no_act_output_in(plan, 1));
    STATIC_REQUIRE(!writes_no_act_output_in(plan, 2));
    // dgamma and dbeta: sums over tokens, accumulated in the same nest.
    STATIC_REQUIRE(is_sum_over_tokens(plan, 1));
    STATIC_REQUIRE(is_sum_over_tokens(plan, 2));

    const std::string text = explain(compile(dln));
    INFO(text);
    CHECK(text.find("1 loop nest over tokens, 3 loops over features") != std::string::npos);
    CHECK(text.find("sum over threads, in order") != std::string::npos);
}

// A block's backward recomputes the forward from x. Pre-norm: the mean and the variance take a
// loop each, then the sums of the backward, which need the normalized value (the sublayer's
// derivative is taken at it), and the write. Post-norm: the norm is last, so its backward sums
// need only the mean and go with the variance, as in the LayerNorm backward.
TEST_CASE("the derived RMSNorm backward and block backwards plan to one nest", "[plan][grad]") {
    constexpr auto drms = grad(rms_norm(x, g), wrt(x, g));
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(drms)>>.loop_nests() == 1);
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(drms)>>.loops[0] == 2);
    constexpr auto ln = [](auto v) { return layer_norm(v, g, b); };
    constexpr auto dpre = grad(pre_norm(x, ln, [](auto h) { return gelu(h); }), wrt(x, g, b));
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(dpre)>>.loop_nests() == 1);
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(dpre)>>.loops[0] == 4);
    constexpr auto dpost = grad(post_norm(x, ln, [](auto h) { return gelu(h); }), wrt(x, g, b));
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(dpost)>>.loop_nests() == 1);
    STATIC_REQUIRE(fuse::plan_of<std::remove_cv_t<decltype(dpost)>>.loops[0] == 3);
}
