// fmt::format("{:8.4f}", t) for tensors and views: one row per line, the spec applied to each element.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

template <etna::element T>
struct fmt::formatter<etna::view<T>, char> {
    std::string element_spec = "{}";

    constexpr auto parse(fmt::format_parse_context& ctx) {
        auto end = ctx.begin();
        while (end != ctx.end() && *end != '}') ++end;
        element_spec = "{:" + std::string(ctx.begin(), end) + "}";
        return end;
    }

    auto format(etna::view<T> values, fmt::format_context& ctx) const {
        auto out = ctx.out();
        for (std::size_t r = 0; r < values.rows(); ++r) {
            out = fmt::format_to(out, "{}", r == 0 ? "[" : " ");
            for (std::size_t c = 0; c < values.cols(); ++c) {
                if (c > 0) out = fmt::format_to(out, " ");
                out = fmt::format_to(out, fmt::runtime(element_spec), values(r, c));
            }
            out = fmt::format_to(out, "{}", r + 1 == values.rows() ? "]" : "\n");
        }
        if (values.rows() == 0) out = fmt::format_to(out, "[]");
        return out;
    }
};

template <etna::element T>
struct fmt::formatter<etna::tensor<T>, char> : fmt::formatter<etna::view<const T>, char> {
    auto format(const etna::tensor<T>& values, fmt::format_context& ctx) const {
        return fmt::formatter<etna::view<const T>, char>::format(values.view(), ctx);
    }
};
