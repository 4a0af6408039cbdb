// sizes: the run-time number of tokens T and of features D per feature axis, read off the bindings.
#pragma once

#include <cstddef>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <etna/expr/kind.hpp>
#include <etna/runtime/error.hpp>

namespace etna {

// The first leaf that has an axis sets its size; every later leaf must agree, or a shape_error
// names it, the size it has and the size it should have, and the leaf that set that size (as a
// "parameter" when `parameter` is true, else as a "leaf"). Which leaf is blamed is the order of
// the add_leaf calls: sizes_of_bindings (runtime/binding.hpp) adds the parameters first.
class sizes {
public:
    template <a_kind K>
    void add_leaf(std::string_view leaf, std::size_t rows, std::size_t cols, bool parameter = false) {
        if constexpr (is_weight<K>) agree<K>(leaf, parameter, "rows", rows, feature_axis(K::input_axis.view()));
        else if constexpr (K::has_tokens) agree<K>(leaf, parameter, "tokens", rows, tokens_);
        else expect_one<K>(leaf, "row", rows);
        if constexpr (K::has_features) agree<K>(leaf, parameter, "features", cols, feature_axis(K::feature_axis.view()));
        else expect_one<K>(leaf, "column", cols);
    }

    [[nodiscard]] std::size_t tokens() const {
        if (!tokens_.size) throw error("etna: the number of tokens is unknown: no bound leaf has a token axis");
        return *tokens_.size;
    }

    [[nodiscard]] std::size_t features(std::string_view axis_name) const {
        for (std::size_t a = 0; a < axis_count_; ++a)
            if (features_[a].name == axis_name && features_[a].size) return *features_[a].size;
        throw error(fmt::format("etna: the size of feature axis '{}' is unknown: no bound leaf has it", axis_name));
    }

    template <a_kind K>
    [[nodiscard]] std::size_t rows() const {
        if constexpr (is_weight<K>) return features(K::input_axis.view());
        else return K::has_tokens ? tokens() : 1;
    }
    template <a_kind K>
    [[nodiscard]] std::size_t cols() const { return K::has_features ? features(K::feature_axis.view()) : 1; }

    // Feature axes a graph may use; a kernel's call resolves its sizes without allocating.
    static constexpr std::size_t max_feature_axes = 8;

private:
    // Names are the leaves' and axes' names: template arguments, which live as long as the program.
    struct axis_size {
        std::string_view name;  // feature-axis name; unused for tokens
        std::optional<std::size_t> size;
        std::string_view set_by;  // the leaf whose size this is
        std::string_view set_as;  // what that leaf's size is: its tokens, features or rows
        bool set_by_parameter = false;
    };

    axis_size& feature_axis(std::string_view name) {
        for (std::size_t a = 0; a < axis_count_; ++a)
            if (features_[a].name == name) return features_[a];
        if (axis_count_ == max_feature_axes)
            throw error(fmt::format("etna: a graph may use at most {} feature axes", max_feature_axes));
        features_[axis_count_] = axis_size{name, std::nullopt, {}, {}, false};
        return features_[axis_count_++];
    }

    template <a_kind K>
    static void agree(std::string_view leaf, bool parameter, std::string_view what, std::size_t actual, axis_size& known) {
        if (!known.size) {
            known.size = actual;
            known.set_by = leaf;
            known.set_as = what;
            known.set_by_parameter = parameter;
        } else if (*known.size != actual) {
            throw shape_error(std::string(leaf), *known.size, actual,
                              fmt::format("etna: shape mismatch at leaf '{}' ({}): {} {}, expected {} (the {} of {} '{}')",
                                          leaf, kind_name<K>(), actual, what, *known.size, known.set_as,
                                          known.set_by_parameter ? "parameter" : "leaf", known.set_by));
        }
    }

    template <a_kind K>
    static void expect_one(std::string_view leaf, std::string_view what, std::size_t actual) {
        if (actual != 1)
            throw shape_error(std::string(leaf), 1, actual,
                              fmt::format("etna: shape mismatch at leaf '{}' ({}): {} {}s, expected 1 (a {} value has one {})",
                                          leaf, kind_name<K>(), actual, what, kind_name<K>(), what));
    }

    axis_size tokens_;
    std::array<axis_size, max_feature_axes> features_{};
    std::size_t axis_count_ = 0;
};

}  // namespace etna
