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

// Prefix followed by the decimal digits of Number: numbered<"dy", 3>() is "dy3" (names of
// generated leaves: seeds, saved statistics).
template <fixed_string Prefix, std::size_t Number>
consteval auto numbered() {
    static_assert(Number < 1000, "etna: generated leaf names are numbered up to 999");
    constexpr std::size_t digits = Number < 10 ? 1 : Number < 100 ? 2 : 3;
    char text[Prefix.size() + digits + 1]{};
    std::copy_n(Prefix.chars, Prefix.size(), text);
    for (std::size_t d = 0, rest = Number; d < digits; ++d, rest /= 10)
        text[Prefix.size() + digits - 1 - d] = static_cast<char>('0' + rest % 10);
    return fixed_string<Prefix.size() + digits + 1>(text);
}

// The strings one after another: joined<"D[", "ff", "]">() is "D[ff]" (symbols of nodes).
template <fixed_string... Parts>
consteval auto joined() {
    char text[(Parts.size() + ... + 0) + 1]{};
    std::size_t at = 0;
    ((std::copy_n(Parts.chars, Parts.size(), text + at), at += Parts.size()), ...);
    return fixed_string<(Parts.size() + ... + 0) + 1>(text);
}

}  // namespace etna
