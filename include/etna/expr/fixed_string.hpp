// fixed_string: a string usable as a template argument, so that a leaf's name is part of its type.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace etna {

template <std::size_t N>
struct fixed_string {
    char chars[N]{};  // N counts the terminating '\0', as for a string literal

    constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, chars); }

    [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
    [[nodiscard]] static constexpr std::size_t size() { return N - 1; }

    template <std::size_t M>
    [[nodiscard]] constexpr bool operator==(const fixed_string<M>& other) const {
        return view() == other.view();
    }
};

}  // namespace etna
