// The closed set of elementwise primitives: each one's scalar definition, notation and adjoint rule, at a glance.
#pragma once

#include <cmath>
#include <string_view>

#include <etna/expr/fixed_string.hpp>
#include <etna/expr/literal.hpp>

namespace etna {

// How a primitive is written in a formula (io/formula.hpp): `a + b`, `-a` or `exp(a)`.
enum class notation : unsigned char { infix, prefix, call };

namespace prim {

// Every primitive derives from `written_as` (its name, arity and notation; a higher precedence
// binds tighter; its cost, in adds, of computing one element: what the planner weighs when it
// chooses between recomputing a value and keeping it in a row buffer, fuse/plan.hpp) and defines
//   apply(T...) -> T for T = float or double: its value;
//   adjoint(f, d, out, operands...): given d, the adjoint of the primitive's result out, one
//     term per operand: what that operand's adjoint receives, before autodiff sums it over the
//     axes the operand is broadcast along (autodiff/grad.hpp). The arguments are autodiff terms,
//     whose + - * / simplify as they build (autodiff/simplify.hpp); f builds the functions.
// Norms, activations and blocks are compositions of these (ops/), never primitives, and have
// no adjoint of their own.
template <fixed_string Name, int Arity, notation Notation, int Precedence, int Cost = 1>
struct written_as {
    static constexpr std::string_view name = Name.view();
    static constexpr int arity = Arity;
    static constexpr notation written = Notation;
    static constexpr int precedence = Precedence;
    static constexpr int cost = Cost;
};
template <fixed_string Name, int Precedence, int Cost = 1>
using infix = written_as<Name, 2, notation::infix, Precedence, Cost>;
template <fixed_string Name, int Arity = 1, int Cost = 1>
using function = written_as<Name, Arity, notation::call, 5, Cost>;
// Costs: a division or square root is a few adds' worth of a vector unit's time; exp, log, tanh
// and erf are polynomial evaluations (glibc's vector variants: about twenty operations).
inline constexpr int root_cost = 4;
inline constexpr int transcendental_cost = 20;

// The adjoint terms of a node's operands, in operand order. A plain type list: a
// boost::hana::tuple of terms made the sweep over a 12-deep chain of shared sub-expressions take
// 150 s to compile instead of 1 (hana inspects its element types, which spell out a whole graph).
template <class... Terms>
struct adjoint_terms {};
template <class... Terms>
constexpr adjoint_terms<Terms...> adjoints(Terms...) {
    return {};
}
inline constexpr auto no_gradient = constant<0.0>;

struct add : infix<"+", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return a + b; }
    static constexpr auto adjoint(auto, auto d, auto, auto, auto) { return adjoints(d, d); }
};

struct sub : infix<"-", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return a - b; }
    static constexpr auto adjoint(auto, auto d, auto, auto, auto) { return adjoints(d, -d); }
};

struct mul : infix<"*", 3> {
    template <class T>
    static constexpr T apply(T a, T b) { return a * b; }
    static constexpr auto adjoint(auto, auto d, auto, auto a, auto b) { return adjoints(d * b, d * a); }
};

struct div : infix<"/", 3, root_cost> {
    template <class T>
    static constexpr T apply(T a, T b) { return a / b; }
    // d(a / b) = da / b - (a / b) db / b
    static constexpr auto adjoint(auto, auto d, auto out, auto, auto b) { return adjoints(d / b, -(d * out / b)); }
};

// a > b as 1 or 0: the indicator that max's derivative needs.
struct greater : infix<">", 1> {
    template <class T>
    static constexpr T apply(T a, T b) { return a > b ? T(1) : T(0); }
    // A step: zero almost everywhere.
    static constexpr auto adjoint(auto, auto, auto, auto, auto) { return adjoints(no_gradient, no_gradient); }
};

// NaN-propagating, like PyTorch's maximum: max(NaN, 0) is NaN, so relu does not hide a NaN.
struct max : function<"max", 2> {
    template <class T>
    static constexpr T apply(T a, T b) { return (a > b || a != a) ? a : b; }
    // The gradient goes to the operand max returned: a, unless b > a (a tie goes to a).
    static constexpr auto adjoint(auto f, auto d, auto, auto a, auto b) {
        return adjoints(f.select(f.greater(b, a), no_gradient, d), f.select(f.greater(b, a), d, no_gradient));
    }
};

// select(c, a, b) is a where c is not 0, else b. Unlike c * a + (1 - c) * b it never reads the
// unselected operand into the result, so a NaN in padding cannot leak through a masked mean.
struct select : function<"select", 3> {
    template <class T>
    static constexpr T apply(T c, T a, T b) { return c != T(0) ? a : b; }
    // The condition is a step: no gradient; each branch gets d where it was selected.
    static constexpr auto adjoint(auto f, auto d, auto, auto c, auto, auto) {
        return adjoints(no_gradient, f.select(c, d, no_gradient), f.select(c, no_gradient, d));
    }
};

struct neg : written_as<"-", 1, notation::prefix, 4> {
    template <class T>
    static constexpr T apply(T a) { return -a; }
    static constexpr auto adjoint(auto, auto d, auto, auto) { return adjoints(-d); }
};

struct exp : function<"exp", 1, transcendental_cost> {
    template <class T>
    static T apply(T a) { return std::exp(a); }
    static constexpr auto adjoint(auto, auto d, auto out, auto) { return adjoints(d * out); }
};

struct log : function<"log", 1, transcendental_cost> {
    template <class T>
    static T apply(T a) { return std::log(a); }
    static constexpr auto adjoint(auto, auto d, auto, auto a) { return adjoints(d / a); }
};

struct sqrt : function<"sqrt", 1, root_cost> {
    template <class T>
    static T apply(T a) { return std::sqrt(a); }
    // d sqrt(a) = da / (2 sqrt(a))
    static constexpr auto adjoint(auto, auto d, auto out, auto) { return adjoints(d * constant<0.5> / out); }
};

struct rsqrt : function<"rsqrt", 1, root_cost> {
    template <class T>
    static T apply(T a) { return T(1) / std::sqrt(a); }
    // d a^(-1/2) = -a^(-3/2) da / 2, from the result alone (so a backward pass that saved
    // rsqrt(var + eps) needs nothing else).
    static constexpr auto adjoint(auto, auto d, auto out, auto) { return adjoints(d * (out * out * out) * constant<-0.5>); }
};

struct tanh : function<"tanh", 1, transcendental_cost> {
    template <class T>
    static T apply(T a) { return std::tanh(a); }
    static constexpr auto adjoint(auto, auto d, auto out, auto) { return adjoints(d * (constant<1.0> - out * out)); }
};

struct erf : function<"erf", 1, transcendental_cost> {
    template <class T>
    static T apply(T a) { return std::erf(a); }
    // d erf(a) = 2 / sqrt(pi) exp(-a^2) da
    static constexpr auto adjoint(auto f, auto d, auto, auto a) {
        return adjoints(d * constant<1.1283791670955126> * f.exp(-(a * a)));
    }
};

// stop_gradient(a) is a, through which no gradient flows (JAX's lax.stop_gradient). For values
// the result does not depend on, though they appear in it: the maximum that softmax subtracts
// (ops/softmax.hpp) shifts every exponent alike, so its adjoint would be a sum that cancels to 0.
struct stop_gradient : function<"stop_gradient", 1, 0> {
    template <class T>
    static constexpr T apply(T a) { return a; }
    static constexpr auto adjoint(auto, auto, auto, auto) { return adjoints(no_gradient); }
};

// broadcast(a, like) is a, repeated over the axes of `like` that a lacks. Only autodiff writes
// it: a gradient has the shape of its leaf even where it is constant along an axis (the
// gradient of sum_f(x) with respect to x is the PerToken seed, on every feature).
struct broadcast : function<"broadcast", 2> {
    template <class T>
    static constexpr T apply(T a, T) { return a; }
    static constexpr auto adjoint(auto, auto d, auto, auto, auto) { return adjoints(d, no_gradient); }
};

}  // namespace prim
}  // namespace etna
