// check_gradient: a derived gradient against central finite differences, in double precision.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <fmt/format.h>

#include <etna/autodiff/grad.hpp>
#include <etna/expr/graph.hpp>
#include <etna/runtime/binding.hpp>
#include <etna/runtime/interpreter.hpp>
#include <etna/runtime/random.hpp>
#include <etna/runtime/tensor.hpp>

namespace etna {

struct gradient_check_options {
    int directions = 3;        // random directions v, each one check
    double step = 1e-5;        // the relative step r: each element's h is r times its scale (below)
    double tolerance = 1e-6;   // the largest error accepted
    std::uint64_t seed = 1;    // of the directions and of the adjoint seeds
};

struct gradient_check_result {
    bool passed = true;
    double worst_error = 0;  // the largest error over the directions
    std::string report;      // one line per direction
    explicit operator bool() const noexcept { return passed; }
};

namespace autodiff::checking {

inline double dot(view<const double> a, view<const double> b) {
    double sum = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) sum += a(r, c) * b(r, c);
    return sum;
}

inline double dot_of_magnitudes(view<const double> a, view<const double> b) {
    double sum = 0;
    for (std::size_t r = 0; r < a.rows(); ++r)
        for (std::size_t c = 0; c < a.cols(); ++c) sum += std::abs(a(r, c) * b(r, c));
    return sum;
}

// The fourth-order central difference, h f'(x) from f at x + h, x - h, x + 2h, x - 2h: it errs by
// about h^5 f^(5) / 30, where (f(x + h) - f(x - h)) / 2 errs by h^3 f^(3) / 6.
inline double stencil(double plus, double minus, double plus2, double minus2) {
    return (8 * (plus - minus) - (plus2 - minus2)) / 12;
}

// The spread (root-mean-square deviation from the mean) and the magnitude (root-mean-square) of
// a row, a column or a whole leaf. The deviations are summed about the mean, not derived from
// the sum of squares, which would cancel to noise for values of mean 1e4 and spread 1e-2.
struct line_scale {
    double spread = 0;
    double magnitude = 0;
};

template <class At>
line_scale scale_of_line(std::size_t n, At at) {
    double sum = 0, square_sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += at(i);
        square_sum += at(i) * at(i);
    }
    const double mean = sum / static_cast<double>(n);
    double deviation_sum = 0;
    for (std::size_t i = 0; i < n; ++i) deviation_sum += (at(i) - mean) * (at(i) - mean);
    return {std::sqrt(deviation_sum / static_cast<double>(n)), std::sqrt(square_sum / static_cast<double>(n))};
}

// Each element's step: h = r s cbrt(max(1, a / s)), r = options.step, where s is the scale over
// which the checked function varies with the element and a the magnitude of the values about it.
// - s is the spread of the element's row (its token's values) or of its column (its feature's
//   values over the tokens), the smaller one that is not 0: a LayerNorm varies on the scale of a
//   row's spread and a BatchNorm on a column's, whatever the values' common offset (data of mean
//   1e4 and standard deviation 1e-2 varies on the scale 1e-2, not 1e4). A row or column of one
//   element has no spread; where there is none (a constant leaf, a scalar), s is the leaf's
//   magnitude, or 1 for a leaf of zeros. a is the magnitude of the same row or column.
// - The difference (fourth-order, below) errs by about (h/s)^4 from the function's curvature and
//   by e / h from the rounding e of each evaluation of phi. Values of magnitude a round by eps a
//   (eps = 2.2e-16 in double): eps a / s of the scale the function resolves, so that rounding
//   costs about (eps a / s) / (h / s). On well-scaled data (a about s) h = r s = 1e-5 s, about
//   cbrt(eps) s, the step of the classic central difference: rounding about 1e-11, and small
//   enough to stay clear of the kinks of relu and max. An offset multiplies the rounding by a/s,
//   and the step grows by cbrt(a/s) to hold it back: for a/s = 1e6, h/s = 1e-3 and the rounding
//   is a few 1e-8 of the derivative (5e-6 with h/s = 1e-5, measured on LayerNorm); the
//   curvature's share, (h/s)^4 = 1e-12, stays negligible because the difference is of fourth
//   order (a second-order one would err by (h/s)^2 = 1e-6, the tolerance). Beyond a/s of about
//   1e7 double cannot check to 1e-6.
inline tensor<double> element_steps(view<const double> leaf, double relative_step) {
    const std::size_t rows = leaf.rows(), cols = leaf.cols();
    std::vector<line_scale> row_scales(cols > 1 ? rows : 0), col_scales(rows > 1 ? cols : 0);
    for (std::size_t r = 0; r < row_scales.size(); ++r)
        row_scales[r] = scale_of_line(cols, [&](std::size_t c) { return leaf(r, c); });
    for (std::size_t c = 0; c < col_scales.size(); ++c)
        col_scales[c] = scale_of_line(rows, [&](std::size_t r) { return leaf(r, c); });
    const double magnitude = scale_of_line(rows * cols, [&](std::size_t i) { return leaf(i / cols, i % cols); }).magnitude;
    const line_scale no_spread{magnitude > 0 ? magnitude : 1.0, magnitude > 0 ? magnitude : 1.0};

    tensor<double> steps(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const line_scale* chosen = nullptr;
            const auto take = [&](const line_scale& line) {
                if (line.spread > 0 && (!chosen || line.spread < chosen->spread)) chosen = &line;
            };
            if (!row_scales.empty()) take(row_scales[r]);
            if (!col_scales.empty()) take(col_scales[c]);
            if (!chosen) chosen = &no_spread;
            steps(r, c) = relative_step * chosen->spread * std::cbrt(std::max(1.0, chosen->magnitude / chosen->spread));
        }
    return steps;
}

}  // namespace autodiff::checking

// Checks grad(out, wrt(leaves...)) at the bound values: for random directions v (one tensor per
// leaf in wrt) and random adjoint seeds w (one per output; 1 for a Scalar loss), the derived
// directional derivative sum_L <grad_L, u_L> of phi = sum_o <w_o, out_o> against the fourth-order
// central difference (8 (phi(theta + h v) - phi(theta - h v)) - (phi(theta + 2h v) - phi(theta -
// 2h v))) / 12r, where h is each element's own step, r times the scale on which the function
// varies with it (element_steps above, r = options.step), and u = h v / r. Everything runs in
// double in the interpreter. The error of a direction is |difference - derived| /
// max(|difference|, sum_L <|grad_L|, |u_L|>): relative to the size of the terms summed, so that a
// directional derivative that is small by cancellation is not held to a relative accuracy
// rounding cannot give.
// Bindings: every leaf of `out`, as for the interpreter; float data is widened to double.
template <class Out, expression... Leaves, class... Bindings>
gradient_check_result check_gradient(const gradient_check_options& options, Out out, wrt_list<Leaves...> leaves,
                                     const Bindings&... bindings) {
    using namespace autodiff::checking;
    using G = as_graph_t<Out>;
    static_assert(check_bindings<G, Bindings...>());
    static_assert(((index_in<Leaves>(topological_nodes_t<G>{}) < node_count<G>) && ...),
                  "etna: check_gradient: every leaf of wrt(...) must be a leaf of the checked graph");
    constexpr auto gradients = grad(out, leaves);
    using D = std::remove_cv_t<decltype(gradients)>;
    constexpr std::size_t output_count = decltype(boost::hana::length(G::roots))::value;
    constexpr std::size_t leaf_count = sizeof...(Leaves);

    // theta: every binding's values in double; the leaves of wrt are perturbed in copies, each
    // element by its own step (element_steps).
    const std::array<tensor<double>, sizeof...(Bindings)> theta{tensor<double>::copy_of(bindings.values())...};
    std::array<tensor<double>, sizeof...(Bindings)> steps;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        const auto choose = [&](std::size_t b, bool differentiated) {
            if (differentiated) steps[b] = element_steps(theta[b].view(), options.step);
        };
        (choose(I, index_in<typename Bindings::leaf_type>(boost::hana::tuple_t<Leaves...>) < leaf_count), ...);
    }(std::index_sequence_for<Bindings...>{});

    normal_stream random{options.seed};
    interpreter<double, G> forward;
    const auto bind = [&](const std::array<tensor<double>, sizeof...(Bindings)>& values) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple{binding<typename Bindings::leaf_type, double>(values[I].view())...};
        }(std::index_sequence_for<Bindings...>{});
    };
    std::apply([&](const auto&... b) { forward.run(b...); }, bind(theta));

    // The seeds w, and phi.
    constexpr bool loss = output_count == 1 && std::is_same_v<kind_of<typename decltype(+G::roots[boost::hana::size_c<0>])::type>, Scalar>;
    std::array<tensor<double>, output_count> w;
    [&]<std::size_t... O>(std::index_sequence<O...>) {
        ((w[O] = loss ? tensor<double>(1, 1, 1.0) : random.normal_like(forward.template output<O>())), ...);
    }(std::make_index_sequence<output_count>{});
    const auto phi = [&](const std::array<tensor<double>, sizeof...(Bindings)>& values) {
        std::apply([&](const auto&... b) { forward.run(b...); }, bind(values));
        return [&]<std::size_t... O>(std::index_sequence<O...>) {
            return (0.0 + ... + dot(w[O].view(), forward.template output<O>()));
        }(std::make_index_sequence<output_count>{});
    };

    // The derived gradients at theta, seeded by w.
    interpreter<double, D> derived;
    const auto all_bindings = bind(theta);
    if constexpr (loss) {
        std::apply([&](const auto&... b) { with_bindings_of<D>([&](const auto&... own) { derived.run(own...); }, b...); },
                   all_bindings);
    } else {
        [&]<class... Seeds>(seed_list<Seeds...>) {
            [&]<std::size_t... O>(std::index_sequence<O...>) {
                const auto run = [&](const auto&... b) {
                    with_bindings_of<D>([&](const auto&... own) { derived.run(own...); }, b...,
                                        binding<Seeds, double>(w[O].view())...);
                };
                std::apply(run, all_bindings);
            }(std::index_sequence_for<Seeds...>{});
        }(autodiff::default_seeds<G>());
    }

    gradient_check_result result;
    for (int k = 0; k < options.directions; ++k) {
        // theta + h v, theta - h v, theta + 2h v, theta - 2h v.
        constexpr std::array<double, 4> multiples{1, -1, 2, -2};
        std::array<std::array<tensor<double>, sizeof...(Bindings)>, 4> points;
        double derivative = 0;
        double magnitude = 0;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            const auto perturb = [&]<std::size_t B>(std::integral_constant<std::size_t, B>) {
                using Leaf = typename std::tuple_element_t<B, std::tuple<Bindings...>>::leaf_type;
                constexpr std::size_t l = index_in<Leaf>(boost::hana::tuple_t<Leaves...>);
                for (auto& point : points) point[B] = tensor<double>::copy_of(theta[B].view());
                if constexpr (l < leaf_count) {
                    // u: the displacement the stencil actually made, per unit of the relative step,
                    // so that the rounding of theta + h v is no error.
                    tensor<double> u = random.normal_like(theta[B].view());
                    for (std::size_t e = 0; e < u.size(); ++e) {
                        for (std::size_t p = 0; p < 4; ++p)
                            points[p][B].data()[e] += multiples[p] * steps[B].data()[e] * u.data()[e];
                        u.data()[e] = stencil(points[0][B].data()[e], points[1][B].data()[e], points[2][B].data()[e],
                                              points[3][B].data()[e]) / options.step;
                    }
                    derivative += dot(derived.template output<l>(), u.view());
                    magnitude += dot_of_magnitudes(derived.template output<l>(), u.view());
                }
            };
            (perturb(std::integral_constant<std::size_t, I>{}), ...);
        }(std::index_sequence_for<Bindings...>{});
        const double difference = stencil(phi(points[0]), phi(points[1]), phi(points[2]), phi(points[3])) / options.step;
        const double scale = std::max(std::abs(difference), magnitude);
        const double error = scale == 0 ? 0 : std::abs(difference - derivative) / scale;
        const bool ok = error <= options.tolerance;  // false for a NaN error
        result.passed = result.passed && ok;
        result.worst_error = std::max(result.worst_error, std::isnan(error) ? INFINITY : error);
        result.report += fmt::format("direction {}: finite difference {:.12g}, derived {:.12g}, error {:.2g}{}\n", k,
                                     difference, derivative, error, ok ? "" : " (too large)");
    }
    return result;
}

template <class Out, expression... Leaves, class... Bindings>
gradient_check_result check_gradient(Out out, wrt_list<Leaves...> leaves, const Bindings&... bindings) {
    return check_gradient(gradient_check_options{}, out, leaves, bindings...);
}

}  // namespace etna
