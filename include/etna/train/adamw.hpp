// AdamW: the optimizer's update as an etna expression, compiled to one fused pass over the parameters.
#pragma once

#include <cmath>
#include <cstddef>

#include <fmt/format.h>

#include <etna/cpu/compile.hpp>
#include <etna/cpu/into.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/operators.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

struct adamw_options {
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double weight_decay = 0.01;  // decoupled (Loshchilov & Hutter), applied to the parameters given it
};

namespace adamw_terms {

inline constexpr auto p = input<"p">;        // parameters, viewed as rows x columns
inline constexpr auto g = input<"grad">;     // their gradients
inline constexpr auto m = input<"m">;        // first moments
inline constexpr auto v = input<"v">;        // second moments
inline constexpr auto lr = scalar<"lr">;
inline constexpr auto beta1 = scalar<"beta1">;
inline constexpr auto beta2 = scalar<"beta2">;
inline constexpr auto epsilon = scalar<"epsilon">;
inline constexpr auto decay = scalar<"decay">;              // lr * weight decay
inline constexpr auto first_scale = scalar<"first_scale">;  // 1 / (1 - beta1^t): bias correction
inline constexpr auto second_scale = scalar<"second_scale">;  // 1 / (1 - beta2^t)

inline constexpr auto m_next = beta1 * m + (constant<1.0> - beta1) * g;
inline constexpr auto v_next = beta2 * v + (constant<1.0> - beta2) * g * g;
inline constexpr auto p_next = p - decay * p - lr * (m_next * first_scale) / (sqrt(v_next * second_scale) + epsilon);
inline constexpr auto update = outputs(p_next, m_next, v_next);

}  // namespace adamw_terms

// One AdamW step over parameters p with gradients g and moments m, v (all of one shape), in
// place: a single fused pass that reads p, g, m, v and writes p, m, v once (7 arrays of
// traffic), where an update written as separate array operations would pass over them a dozen
// times. Parameters are usually kept in one arena, so that a model's step is one call.
class adamw {
public:
    explicit adamw(adamw_options options = {}) : options_(options) {}

    [[nodiscard]] const adamw_options& options() const noexcept { return options_; }
    adamw& set_threads(int threads) {
        update_.set_threads(threads);
        return *this;
    }

    // Step `step` (1 for the first) at learning rate `learning_rate` (a schedule's value), with
    // weight decay if `decayed`.
    void update(view<float> p, view<const float> g, view<float> m, view<float> v, std::size_t step, double learning_rate,
                bool decayed) {
        using namespace adamw_terms;
        if (step == 0) throw error("etna: adamw steps count from 1 (the bias correction divides by 1 - beta^step)");
        const double first = 1.0 / (1.0 - std::pow(options_.beta1, static_cast<double>(step)));
        const double second = 1.0 / (1.0 - std::pow(options_.beta2, static_cast<double>(step)));
        update_(into(p, m, v), adamw_terms::p = p, adamw_terms::g = g, adamw_terms::m = m, adamw_terms::v = v,
                lr = learning_rate, beta1 = options_.beta1, beta2 = options_.beta2, epsilon = options_.epsilon,
                decay = decayed ? learning_rate * options_.weight_decay : 0.0, first_scale = first, second_scale = second);
    }

private:
    adamw_options options_;
    kernel<decltype(adamw_terms::update)> update_;
};

}  // namespace etna
