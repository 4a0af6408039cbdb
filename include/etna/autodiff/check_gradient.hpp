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
    double step = 1e-5;        // h, relative to the root-mean-square of the leaves' values (at least 1)
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

}  // namespace autodiff::checking

// Checks grad(out, wrt(leaves...)) at the bound values: for random directions v (one tensor per
// leaf in wrt) and random adjoint seeds w (one per output; 1 for a Scalar loss), the derived
// directional derivative sum_L <grad_L, v_L> of phi = sum_o <w_o, out_o> against the central
// difference (phi(theta + h v) - phi(theta - h v)) / 2h. Everything runs in double in the
// interpreter. The error of a direction is |difference - derived| / max(|difference|, sum_L
// <|grad_L|, |v_L|>): relative to the size of the terms summed, so that a directional derivative
// that is small by cancellation is not held to a relative accuracy rounding cannot give.
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

    // theta: every binding's values in double; the leaves of wrt are perturbed in copies.
    const std::array<tensor<double>, sizeof...(Bindings)> theta{tensor<double>::copy_of(bindings.values())...};
    double square_sum = 0;
    std::size_t element_count = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        const auto add = [&](std::size_t b, bool differentiated) {
            if (!differentiated) return;
            square_sum += dot(theta[b].view(), theta[b].view());
            element_count += theta[b].size();
        };
        (add(I, index_in<typename Bindings::leaf_type>(boost::hana::tuple_t<Leaves...>) < leaf_count), ...);
    }(std::index_sequence_for<Bindings...>{});
    const double h = options.step * std::max(1.0, element_count ? std::sqrt(square_sum / element_count) : 0.0);

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
        std::array<tensor<double>, sizeof...(Bindings)> plus, minus;
        double derivative = 0;
        double magnitude = 0;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            const auto perturb = [&]<std::size_t B>(std::integral_constant<std::size_t, B>) {
                using Leaf = typename std::tuple_element_t<B, std::tuple<Bindings...>>::leaf_type;
                constexpr std::size_t l = index_in<Leaf>(boost::hana::tuple_t<Leaves...>);
                plus[B] = tensor<double>::copy_of(theta[B].view());
                minus[B] = tensor<double>::copy_of(theta[B].view());
                if constexpr (l < leaf_count) {
                    const tensor<double> v = random.normal_like(theta[B].view());
                    for (std::size_t e = 0; e < v.size(); ++e) {
                        plus[B].data()[e] += h * v.data()[e];
                        minus[B].data()[e] -= h * v.data()[e];
                    }
                    derivative += dot(derived.template output<l>(), v.view());
                    magnitude += dot_of_magnitudes(derived.template output<l>(), v.view());
                }
            };
            (perturb(std::integral_constant<std::size_t, I>{}), ...);
        }(std::index_sequence_for<Bindings...>{});
        const double difference = (phi(plus) - phi(minus)) / (2 * h);
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
