// parameters: a model's named parameters, their gradients and AdamW moments, in two arenas.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <etna/runtime/error.hpp>
#include <etna/runtime/random.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>
#include <etna/train/adamw.hpp>

namespace etna {

// How a parameter starts: normal with std gain / sqrt(rows) (a weight: rows is its fan-in), or
// every element `value` (a norm's gain: 1; a bias: 0).
struct initialization {
    enum class rule : unsigned char { normal_by_fan_in, constant };
    rule how = rule::constant;
    double value = 0.0;

    static initialization fan_in(double gain = 1.0) { return {rule::normal_by_fan_in, gain}; }
    static initialization filled(double value) { return {rule::constant, value}; }
};

// The parameters of a model, each a rows x cols matrix, in two groups: those with weight decay
// (weights) and those without (biases, norm gains). A group's values, gradients and moments are
// each one arena, padded to whole rows of `arena_width` floats, so that an optimizer step is one
// fused AdamW pass per group, and the padding (zeros, with zero gradients) stays zero.
class parameter_set {
public:
    static constexpr std::size_t arena_width = 256;

    // Adds a parameter before allocate(); returns its index.
    std::size_t add(std::string name, std::size_t rows, std::size_t cols, bool decayed, initialization start) {
        if (allocated_) throw error("etna: parameters are added before they are allocated");
        for (const auto& entry : entries_)
            if (entry.name == name) throw error(fmt::format("etna: two parameters named '{}'", name));
        group& g = groups_[decayed ? 1 : 0];
        constexpr std::size_t line = 16;  // floats per cache line: each parameter starts on one
        const std::size_t offset = g.size;
        g.size += (rows * cols + line - 1) / line * line;
        entries_.push_back({std::move(name), rows, cols, decayed, offset, start});
        return entries_.size() - 1;
    }

    // Allocates the arenas (zero gradients and moments) and initializes every parameter from
    // `seed`: each from a stream of its own name, so a parameter's start does not depend on which
    // others exist.
    void allocate(std::uint64_t seed) {
        for (group& g : groups_) {
            const std::size_t rows = (g.size + arena_width - 1) / arena_width;
            for (tensor<float>* t : {&g.value, &g.gradient, &g.first_moment, &g.second_moment}) *t = tensor<float>(rows, arena_width, 0.0f);
        }
        allocated_ = true;
        for (std::size_t i = 0; i < entries_.size(); ++i) initialize(i, seed);
        step_ = 0;
    }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] const std::string& name(std::size_t i) const { return entries_.at(i).name; }
    [[nodiscard]] std::size_t index_of(std::string_view name) const {
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i].name == name) return i;
        throw error(fmt::format("etna: no parameter named '{}'", name));
    }
    [[nodiscard]] std::size_t count() const noexcept {  // of numbers, padding excluded
        std::size_t n = 0;
        for (const auto& e : entries_) n += e.rows * e.cols;
        return n;
    }

    [[nodiscard]] view<float> value(std::size_t i) { return window(i, &group::value); }
    [[nodiscard]] view<float> gradient(std::size_t i) { return window(i, &group::gradient); }
    [[nodiscard]] view<float> first_moment(std::size_t i) { return window(i, &group::first_moment); }
    [[nodiscard]] view<float> second_moment(std::size_t i) { return window(i, &group::second_moment); }

    // Steps taken by the optimizer so far (AdamW's bias correction counts them).
    [[nodiscard]] std::size_t steps() const noexcept { return step_; }
    void set_steps(std::size_t steps) { step_ = steps; }

    // One AdamW step over every parameter at learning rate `learning_rate`.
    void step(adamw& optimizer, double learning_rate) {
        ++step_;
        for (std::size_t decayed = 0; decayed < 2; ++decayed) {
            group& g = groups_[decayed];
            if (g.size == 0) continue;
            optimizer.update(g.value.view(), g.gradient.view(), g.first_moment.view(), g.second_moment.view(), step_, learning_rate,
                             decayed == 1);
        }
    }

    // The Frobenius norm of parameter i's gradient.
    [[nodiscard]] double gradient_norm(std::size_t i) {
        const view<float> g = gradient(i);
        double sum = 0;
        for (std::size_t r = 0; r < g.rows(); ++r)
            for (std::size_t c = 0; c < g.cols(); ++c) sum += static_cast<double>(g(r, c)) * g(r, c);
        return std::sqrt(sum);
    }

private:
    struct entry {
        std::string name;
        std::size_t rows, cols;
        bool decayed;
        std::size_t offset;  // in its group's arenas
        initialization start;
    };
    struct group {
        std::size_t size = 0;
        tensor<float> value, gradient, first_moment, second_moment;
    };

    view<float> window(std::size_t i, tensor<float> group::*arena) {
        if (!allocated_) throw error("etna: parameters are read after allocate()");
        const entry& e = entries_.at(i);
        return view<float>((groups_[e.decayed ? 1 : 0].*arena).data() + e.offset, e.rows, e.cols);
    }

    void initialize(std::size_t i, std::uint64_t seed) {
        const entry& e = entries_[i];
        view<float> v = value(i);
        normal_stream random{seed_for(seed, e.name)};
        const double scale = e.start.value / std::sqrt(static_cast<double>(std::max<std::size_t>(e.rows, 1)));
        for (std::size_t r = 0; r < v.rows(); ++r)
            for (std::size_t c = 0; c < v.cols(); ++c)
                v(r, c) = static_cast<float>(e.start.how == initialization::rule::constant ? e.start.value : scale * random.next_normal());
    }

    std::vector<entry> entries_;
    group groups_[2];
    bool allocated_ = false;
    std::size_t step_ = 0;
};

}  // namespace etna
