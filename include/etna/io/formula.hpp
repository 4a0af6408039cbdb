// Formulas: fmt::format("{}", expr) prints a graph with each shared sub-expression let-bound once.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/hana/for_each.hpp>
#include <fmt/format.h>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/primitives.hpp>
#include <etna/expr/reduction.hpp>

namespace etna {

namespace detail {

template <class E>
inline constexpr bool is_atom = is_leaf<E> || is_literal<E> || is_extent<E>;

// The compositions of expr/mean.hpp, recognized so that they print as they were written:
// sum_f(a) / D is mean_f(a), sum_t(a) / T is mean_t(a), sum_t(select(m, a, 0)) / sum_t(m) is
// mean_t(a, m).
template <class E>
struct mean_pattern : std::false_type {};
template <class A, fixed_string FeatureAxis>
struct mean_pattern<elementwise<prim::div, reduction<axis::features, A>, extent<axis::features, FeatureAxis>>> : std::true_type {
    static constexpr std::string_view name = "mean_f";
    using arguments = boost::hana::tuple<boost::hana::type<A>>;
};
template <class A>
struct mean_pattern<elementwise<prim::div, reduction<axis::tokens, A>, token_count>> : std::true_type {
    static constexpr std::string_view name = "mean_t";
    using arguments = boost::hana::tuple<boost::hana::type<A>>;
};
template <class A, class M>
struct mean_pattern<elementwise<prim::div, reduction<axis::tokens, elementwise<prim::select, M, A, literal<0.0>>>,
                                reduction<axis::tokens, M>>>
    : std::true_type {
    static constexpr std::string_view name = "mean_t";
    using arguments = boost::hana::tuple<boost::hana::type<A>, boost::hana::type<M>>;
};

// The graph as printed: a mean is one node whose operands are its arguments, so the sums
// inside it are not nodes of the printed graph and are never let-bound.
template <class E>
struct printed_operands : operands_of<E> {};
template <class E>
    requires mean_pattern<E>::value
struct printed_operands<E> {
    using type = typename mean_pattern<E>::arguments;
};

}  // namespace detail

// Prints the graph G. Every node of the printed graph that is used more than once and is not
// a leaf or a constant is let-bound, `let v1 = ... in`, and then written by its name.
template <class G>
class formula_printer {
    using nodes = topological_nodes_t<G, detail::printed_operands>;
    static constexpr auto& uses = use_counts<G, detail::printed_operands>;

    template <class E>
    static constexpr bool let_bound = !detail::is_atom<E> && uses[index_in<E>(nodes{})] > 1;

    // v1, v2, ... in topological order; 0 for nodes that are not let-bound.
    template <class... Types>
    static consteval auto number_lets(boost::hana::tuple<Types...>) {
        constexpr bool bound[] = {let_bound<typename Types::type>..., false};
        std::array<int, sizeof...(Types)> numbers{};
        int next = 0;
        for (std::size_t i = 0; i < sizeof...(Types); ++i) numbers[i] = bound[i] ? ++next : 0;
        return numbers;
    }
    static constexpr auto let_numbers = number_lets(nodes{});

public:
    static std::string print() {
        std::string out;
        boost::hana::for_each(nodes{}, [&](auto node) {
            using E = typename decltype(node)::type;
            if constexpr (let_bound<E>) out += fmt::format("let v{} = {} in\n", let_numbers[index_in<E>(nodes{})], structure<E>());
        });
        if constexpr (is_graph<G>) {
            out += "outputs(";
            std::string_view separator;
            boost::hana::for_each(G::roots, [&](auto root) {
                out += separator;
                out += text<typename decltype(root)::type>();
                separator = ", ";
            });
            out += ")";
        } else {
            out += text<G>();
        }
        return out;
    }

private:
    template <class E>
    static std::string text() {
        if constexpr (let_bound<E>) return fmt::format("v{}", let_numbers[index_in<E>(nodes{})]);
        else return structure<E>();
    }

    // Binding strength of E's text; operands weaker than their position requires get parentheses.
    template <class E>
    static constexpr int precedence() {
        if constexpr (let_bound<E> || detail::mean_pattern<E>::value) return 5;
        else if constexpr (is_literal<E>) return E::value < 0 ? 4 : 5;
        else if constexpr (is_elementwise<E>) return E::op::precedence;
        else return 5;
    }

    template <class E>
    static std::string operand(int required) {
        // fmt, not std::string operator+: GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
        return precedence<E>() < required ? fmt::format("({})", text<E>()) : text<E>();
    }

    template <class... Types>
    static std::string argument_list(boost::hana::tuple<Types...>) {
        std::string args;
        ((args += (args.empty() ? "" : ", ") + text<typename Types::type>()), ...);
        return args;
    }

    // One printer per node category (expr/node.hpp); a mean prints as it was written.
    template <class E>
    static std::string structure() {
        if constexpr (detail::mean_pattern<E>::value)
            return fmt::format("{}({})", detail::mean_pattern<E>::name, argument_list(typename detail::mean_pattern<E>::arguments{}));
        else return structure<E>(category_tag_of<E>{});
    }
    template <class E>
    static std::string structure(category_tag<node_category::leaf>) { return std::string(E::name.view()); }
    template <class E>
    static std::string structure(category_tag<node_category::literal>) { return fmt::format("{}", E::value); }
    template <class E>
    static std::string structure(category_tag<node_category::extent>) { return std::string(E::symbol()); }
    template <class E>
    static std::string structure(category_tag<node_category::elementwise>) { return elementwise_text(E{}); }
    template <class E>
    static std::string structure(category_tag<node_category::reduction>) { return call_text<E>(); }
    template <class E>
    static std::string structure(category_tag<node_category::contraction>) { return call_text<E>(); }

    // sum_f(a), max_t(a), matmul(a, W), ...
    template <class E>
    static std::string call_text() {
        return fmt::format("{}({})", E::symbol(), argument_list(typename operands_of<E>::type{}));
    }

    template <class Op, class... Args>
    static std::string elementwise_text(elementwise<Op, Args...>) {
        if constexpr (Op::written == notation::call) {
            return fmt::format("{}({})", Op::name, argument_list(boost::hana::tuple_t<Args...>));
        } else if constexpr (Op::written == notation::prefix) {
            return fmt::format("{}{}", Op::name, operand<Args...>(5));
        } else {
            return infix_text<Op, Args...>();
        }
    }

    // Left-associative: an operand on the right of equal precedence keeps its parentheses,
    // because floating-point a + (b + c) is not (a + b) + c. Comparisons do not chain.
    template <class Op, class Left, class Right>
    static std::string infix_text() {
        const int left_required = Op::precedence == prim::greater::precedence ? Op::precedence + 1 : Op::precedence;
        return fmt::format("{} {} {}", operand<Left>(left_required), Op::name, operand<Right>(Op::precedence + 1));
    }
};

// The formula of an expression or of outputs(...), as fmt::format("{}", g) prints it.
template <class G>
std::string formula(G) {
    return formula_printer<G>::print();
}

}  // namespace etna

template <etna::expression E>
struct fmt::formatter<E, char> : fmt::formatter<std::string_view, char> {
    auto format(E e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view, char>::format(etna::formula(e), ctx);
    }
};

template <etna::expression... Outs>
struct fmt::formatter<etna::graph<Outs...>, char> : fmt::formatter<std::string_view, char> {
    auto format(etna::graph<Outs...> g, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view, char>::format(etna::formula(g), ctx);
    }
};
