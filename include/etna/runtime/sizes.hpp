// sizes: the run-time number of tokens T and of features D per feature axis, read off the bindings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <etna/expr/kind.hpp>
#include <etna/runtime/error.hpp>

namespace etna {

// The first leaf that has an axis sets its size; every later leaf must agree, or a shape_error
// names it, the size it has and the size it should have.
class sizes {
public:
    template <a_kind K>
    void add_leaf(std::string_view leaf, std::size_t rows, std::size_t cols) {
        if constexpr (K::has_tokens) agree(leaf, kind_name<K>(), "tokens", rows, tokens_);
        else expect_one(leaf, kind_name<K>(), "row", rows);
        if constexpr (K::has_features) agree(leaf, kind_name<K>(), "features", cols, feature_axis(K::feature_axis.view()));
        else expect_one(leaf, kind_name<K>(), "column", cols);
    }

    [[nodiscard]] std::size_t tokens() const {
        if (!tokens_.size) throw error("etna: the number of tokens is unknown: no bound leaf has a token axis");
        return *tokens_.size;
    }

    [[nodiscard]] std::size_t features(std::string_view axis_name) const {
        for (const auto& known : features_)
            if (known.name == axis_name && known.size) return *known.size;
        throw error(fmt::format("etna: the size of feature axis '{}' is unknown: no bound leaf has it", axis_name));
    }

    template <a_kind K>
    [[nodiscard]] std::size_t rows() const { return K::has_tokens ? tokens() : 1; }
    template <a_kind K>
    [[nodiscard]] std::size_t cols() const { return K::has_features ? features(K::feature_axis.view()) : 1; }

private:
    struct axis_size {
        std::string name;            // feature-axis name; unused for tokens
        std::optional<std::size_t> size;
        std::string set_by;          // the leaf whose size this is
    };

    axis_size& feature_axis(std::string_view name) {
        for (auto& known : features_)
            if (known.name == name) return known;
        return features_.emplace_back(axis_size{std::string(name), std::nullopt, {}});
    }

    static void agree(std::string_view leaf, const std::string& kind, std::string_view what, std::size_t actual,
                      axis_size& known) {
        if (!known.size) {
            known.size = actual;
            known.set_by = leaf;
        } else if (*known.size != actual) {
            throw shape_error(std::string(leaf), *known.size, actual,
                              fmt::format("etna: shape mismatch at leaf '{}' ({}): {} {}, expected {} (the {} of leaf '{}')",
                                          leaf, kind, actual, what, *known.size, what, known.set_by));
        }
    }

    static void expect_one(std::string_view leaf, const std::string& kind, std::string_view what, std::size_t actual) {
        if (actual != 1)
            throw shape_error(std::string(leaf), 1, actual,
                              fmt::format("etna: shape mismatch at leaf '{}' ({}): {} {}s, expected 1 (a {} value has one {})",
                                          leaf, kind, actual, what, kind, what));
    }

    axis_size tokens_;
    std::vector<axis_size> features_;
};

}  // namespace etna
