// The closed set of elementwise primitives: each one's scalar definition and notation, at a glance.
#pragma once

#include <cmath>
#include <string_view>

#include <etna/expr/fixed_string.hpp>

namespace etna {

// How a primitive is written in a formula (io/formula.hpp): `a + b`, `-a` or `exp(a)`.
enum class notation : unsigned char { infix, prefix, call };

namespace prim {

// Every primitive derives from `written_as` (its name, arity and notation; a higher precedence
// binds tighter) and defines apply(T...) -> T for T = float or double: its value.
// Norms, activations and blocks are compositions of these (ops/), never primitives.
template <fixed_string Name, int Arity, notation Notation, int Precedence>
struct written_as {
    static constexpr std::string_view name = Name.view();
    static constexpr int arity = Arity;
    static constexpr notation written = Notation;
    static constexpr int precedence = Precedence;
};
template <fixed_string Name, int Precedence>
using infix = written_as<Name, 2, notation::infix, Precedence>;
template <fixed_string Name, int Arity = 1>
using function = written_as<Name, Arity, notation::call, 5>;

struct add : infix<"+", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return a + b; }
};

struct sub : infix<"-", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return a - b; }
};

struct mul : infix<"*", 3> {
    template <class T>
    static constexpr T apply(T a, T b) { return a * b; }
};

struct div : infix<"/", 3> {
    template <class T>
    static constexpr T apply(T a, T b) { return a / b; }
};

// a > b as 1 or 0: the indicator that max's derivative needs.
struct greater : infix<">", 1> {
    template <class T>
    static constexpr T apply(T a, T b) { return a > b ? T(1) : T(0); }
};

// NaN-propagating, like PyTorch's maximum: max(NaN, 0) is NaN, so relu does not hide a NaN.
struct max : function<"max", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return (a > b || a != a) ? a : b; }
};

// select(c, a, b) is a where c is not 0, else b. Unlike c * a + (1 - c) * b it never reads the
// unselected operand into the result, so a NaN in padding cannot leak through a masked mean.
struct select : function<"select", 3> {
    template <class T>
    static constexpr T apply(T c, T a, T b) { return c != T(0) ? a : b; }
};

struct neg : written_as<"-", 1, notation::prefix, 4> {
    template <class T>
    static constexpr T apply(T a) { return -a; }
};

struct exp : function<"exp"> {
    template <class T>
    static T apply(T a) { return std::exp(a); }
};

struct log : function<"log"> {
    template <class T>
    static T apply(T a) { return std::log(a); }
};

struct sqrt : function<"sqrt"> {
    template <class T>
    static T apply(T a) { return std::sqrt(a); }
};

struct rsqrt : function<"rsqrt"> {
    template <class T>
    static T apply(T a) { return T(1) / std::sqrt(a); }
};

struct tanh : function<"tanh"> {
    template <class T>
    static T apply(T a) { return std::tanh(a); }
};

struct erf : function<"erf"> {
    template <class T>
    static T apply(T a) { return std::erf(a); }
};

}  // namespace prim
}  // namespace etna
