// Bindings: `x = X` pairs a leaf with data for one call; checked against the graph at compile time.
#pragma once

#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <fmt/format.h>

#include <etna/expr/elementwise.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/primitives.hpp>
#include <etna/expr/reduction.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

namespace etna {

// Data bound to Leaf, read as elements of type T. A Scalar leaf may hold its number by value.
template <class Leaf, element T>
class binding {
public:
    using leaf_type = Leaf;
    using value_type = T;

    explicit binding(view<const T> values) : values_(values) {}
    explicit binding(T number) : number_(number), holds_number_(true) {}

    [[nodiscard]] view<const T> values() const {
        return holds_number_ ? view<const T>(&number_, 1, 1) : values_;
    }

private:
    view<const T> values_;
    T number_{};
    bool holds_number_ = false;
};

template <class B>
inline constexpr bool is_binding = false;
template <class Leaf, element T>
inline constexpr bool is_binding<binding<Leaf, T>> = true;

// The view a one-dimensional array stands for, given the kind of the leaf it is bound to:
// a PerFeature leaf reads it as one row, a PerToken leaf as one column.
template <a_kind K, element T>
view<const T> as_kind_view(std::span<T> values) {
    if constexpr (K::has_tokens && !K::has_features) return {values.data(), values.size(), 1, 1};
    else return {values.data(), 1, values.size()};
}

template <class V>
concept owning_tensor = requires { typename V::value_type; } && element<typename V::value_type> &&
                        std::is_same_v<V, tensor<typename V::value_type>>;
template <class V>
concept view_like = requires { typename V::value_type; } && element<typename V::value_type> &&
                    std::is_convertible_v<V, view<const typename V::value_type>>;
template <class V>
concept element_vector = requires { typename V::value_type; } && element<typename V::value_type> &&
                         std::is_same_v<V, std::vector<typename V::value_type>>;

// Called by leaf::operator= (expr/leaf.hpp): `leaf = value` for every kind of value etna accepts.
template <leaf_role Role, fixed_string Name, a_kind Kind, class Value>
auto make_binding(leaf<Role, Name, Kind>, Value&& value) {
    using Leaf = leaf<Role, Name, Kind>;
    using V = std::remove_cvref_t<Value>;
    if constexpr (Role == leaf_role::statistic) {
        if constexpr (requires { typename V::value_type; })
            static_assert(std::is_same_v<std::remove_const_t<typename V::value_type>, double>,
                          "etna: a statistic leaf is bound to double data: kernels hold statistics in double whatever "
                          "their element type");
    }
    if constexpr (owning_tensor<V>) {
        static_assert(std::is_lvalue_reference_v<Value>,
                      "etna: binding a temporary tensor would leave the binding dangling; bind a named tensor or a view");
        return binding<Leaf, typename V::value_type>(std::as_const(value).view());
    } else if constexpr (view_like<V>) {
        return binding<Leaf, typename V::value_type>(view<const typename V::value_type>(value));
    } else if constexpr (element_vector<V>) {
        static_assert(std::is_lvalue_reference_v<Value>,
                      "etna: binding a temporary vector would leave the binding dangling; bind a named one");
        static_assert(!(Kind::has_tokens && Kind::has_features),
                      "etna: an Act leaf (tokens x features) cannot be bound to a one-dimensional vector; bind a tensor");
        static_assert(!is_weight<Kind>,
                      "etna: a weight (features_in x features_out) cannot be bound to a one-dimensional vector; bind a "
                      "tensor");
        return binding<Leaf, typename V::value_type>(as_kind_view<Kind>(std::span<const typename V::value_type>(value)));
    } else if constexpr (std::is_arithmetic_v<V>) {
        static_assert(std::is_same_v<Kind, Scalar>, "etna: only a Scalar leaf (scalar<\"name\">) can be bound to a number");
        using number = std::conditional_t<std::is_same_v<V, float> && Role != leaf_role::statistic, float, double>;
        return binding<Leaf, number>(value);
    } else {
        static_assert(always_false<V>,
                      "etna: a leaf binds to a tensor, a view, a std::vector (PerFeature and PerToken leaves) or a number "
                      "(Scalar leaves)");
    }
}

// Run-time checks of a leaf's values that its role implies: a mask holds 1 for a token that
// counts and 0 for one that does not; anything else would silently weigh tokens.
template <class Leaf, element T>
void check_leaf_values(view<const T> values) {
    if constexpr (Leaf::role == leaf_role::mask) {
        for (std::size_t r = 0; r < values.rows(); ++r)
            for (std::size_t c = 0; c < values.cols(); ++c)
                if (const T v = values(r, c); v != T(0) && v != T(1))
                    throw error(fmt::format("etna: mask '{}' must hold only 0 and 1, but token {} holds {}",
                                            Leaf::name.view(), r, v));
    }
}

// Whether graph G divides by the number of tokens mask Mask keeps, sum_t(Mask): whether it takes
// a mean over those tokens (mean_t(x, Mask), expr/mean.hpp; batch_norm_masked's statistics),
// as a forward graph or a gradient derived from one.
template <class E, class Mask>
inline constexpr bool divides_by_count = false;
template <class A, class Mask>
inline constexpr bool divides_by_count<elementwise<prim::div, A, reduction<axis::tokens, Mask>>, Mask> = true;

template <class G, class Mask>
constexpr bool divides_by_count_of() {
    return []<class... Nodes>(boost::hana::tuple<Nodes...>) {
        return (divides_by_count<typename Nodes::type, Mask> || ...);
    }(topological_nodes_t<G>{});
}

// A mean over the tokens a mask keeps is undefined when it keeps none: 0 / 0, whose NaN would
// spread through a masked BatchNorm's every output and, through 0 * NaN, into every gradient of
// a training step, though the loss ignored the padding. So a mask that masks every one of its
// tokens, bound to a graph that takes such a mean, is refused before anything runs. Over zero
// tokens (an empty batch) the mean is 0 / 0 as that of mean_t(x): there is no data to lose.
template <class Leaf, element T>
void check_mask_keeps_a_token(view<const T> values) {
    if (values.rows() == 0) return;
    for (std::size_t r = 0; r < values.rows(); ++r)
        if (values(r, 0) != T(0)) return;
    throw error(fmt::format("etna: mask '{}' masks every one of its {} tokens (it holds no 1), and the graph takes a mean "
                            "over the tokens it keeps (mean_t(x, mask), as batch_norm_masked does): a mean over no token "
                            "is undefined; keep at least one token, or skip the batch",
                            Leaf::name.view(), values.rows()));
}

// Compile-time diagnostics: each is a class whose instantiation fails with a sentence, and
// whose template argument (shown by the compiler just above the sentence) is the leaf's name.
namespace diagnostic {

template <auto>
inline constexpr bool never = false;

template <fixed_string Leaf>
struct missing_binding {
    static_assert(never<Leaf>, "etna: missing binding: the expression reads the leaf named in 'missing_binding<...>' "
                               "above, and no argument binds it (add `leaf = data` to the call)");
};

template <fixed_string Leaf>
struct leaf_bound_twice {
    static_assert(never<Leaf>, "etna: the leaf named in 'leaf_bound_twice<...>' above is bound by two arguments");
};

template <fixed_string Leaf>
struct binding_for_unknown_leaf {
    static_assert(never<Leaf>, "etna: an argument binds the leaf named in 'binding_for_unknown_leaf<...>' above, "
                               "which the expression does not read: a misspelt name, or a leaf it does not need (a "
                               "gradient need not read every leaf of its forward: LayerNorm's does not read beta); "
                               "leave it out of the call, or bind a training pair (vjp), whose backward takes the "
                               "forward's bindings");
};

template <fixed_string Leaf>
struct two_leaves_with_one_name {
    static_assert(never<Leaf>, "etna: two different leaves (other role or kind) share the name in "
                               "'two_leaves_with_one_name<...>' above");
};

template <class Argument>
struct not_a_binding {
    static_assert(always_false<Argument>,
                  "etna: after the expression, every argument must be a binding such as `x = X` (the argument's type "
                  "is in 'not_a_binding<...>' above)");
};

}  // namespace diagnostic

template <class Leaf, class... Bindings>
inline constexpr std::size_t bindings_of = (std::size_t{0} + ... + std::is_same_v<typename Bindings::leaf_type, Leaf>);

namespace detail {

template <class Leaves, class... Bindings>
struct binding_check;

template <class... LeafTypes, class... Bindings>
struct binding_check<boost::hana::tuple<LeafTypes...>, Bindings...> {
    template <class Leaf>
    static constexpr bool leaf_ok() {
        constexpr std::size_t bound = bindings_of<Leaf, Bindings...>;
        if constexpr (bound == 0) (void)sizeof(diagnostic::missing_binding<Leaf::name>);
        if constexpr (bound > 1) (void)sizeof(diagnostic::leaf_bound_twice<Leaf::name>);
        if constexpr ((0 + ... + (Leaf::name == LeafTypes::type::name)) > 1)
            (void)sizeof(diagnostic::two_leaves_with_one_name<Leaf::name>);
        return true;
    }

    template <class Binding>
    static constexpr bool binding_ok() {
        if constexpr (!(std::is_same_v<typename Binding::leaf_type, typename LeafTypes::type> || ...))
            (void)sizeof(diagnostic::binding_for_unknown_leaf<Binding::leaf_type::name>);
        return true;
    }

    static constexpr bool value = (leaf_ok<typename LeafTypes::type>() && ...) && (binding_ok<Bindings>() && ...);
};

}  // namespace detail

// Every argument a binding, every leaf of G bound exactly once, every binding for a leaf of G,
// every leaf name used by one leaf only.
template <class G, class... Bindings>
constexpr bool check_bindings() {
    if constexpr ((is_binding<Bindings> && ...)) {
        return detail::binding_check<decltype(leaves_of(G{})), Bindings...>::value;
    } else {
        (void)(0 + ... + sizeof(std::conditional_t<is_binding<Bindings>, int, diagnostic::not_a_binding<Bindings>>));
        return false;
    }
}

// Calls f with those of the bindings whose leaf G reads, in their order: the bindings of a
// larger graph passed on to a part of it (a gradient, a backward).
template <class G, class F, class... Bindings>
decltype(auto) with_bindings_of(F&& f, const Bindings&... bindings) {
    const auto keep = []<class B>(const B& bound) {
        if constexpr (index_in<typename B::leaf_type>(topological_nodes_t<G>{}) < node_count<G>)
            return std::tuple<const B&>(bound);
        else
            return std::tuple<>{};
    };
    return std::apply(std::forward<F>(f), std::tuple_cat(keep(bindings)...));
}

// The binding of Leaf among the arguments (check_bindings has made sure there is one).
template <class Leaf, class First, class... Rest>
const auto& binding_for(const First& first, const Rest&... rest) {
    if constexpr (std::is_same_v<typename First::leaf_type, Leaf>) return first;
    else return binding_for<Leaf>(rest...);
}

// The sizes of a call's axes, read off its bindings of G's leaves and checked against each other;
// each leaf's values checked as its role requires (check_leaf_values), and a mask G takes a mean
// over checked to keep a token (check_mask_keeps_a_token).
//
// Which leaf a size mismatch blames: the parameters (param<...>, weight<...>) are a layer's
// declared sizes and the inputs the data passed through it, so the parameters are added first,
// and an input that disagrees with parameters that agree among themselves is the one named
// ("... at leaf 'x' (Act): 17 features, expected 16 (the features of parameter 'ln.g')"). When
// the parameters disagree among themselves, the inputs are the reference instead: the parameter
// that disagrees with them is named (or, on an axis no input has, the later parameter).
template <class G, class... Bindings>
sizes sizes_of_bindings(const Bindings&... bindings) {
    const auto add = [&]<bool Parameters>(sizes& extents, std::bool_constant<Parameters>) {
        boost::hana::for_each(leaves_of(G{}), [&](auto node) {
            using Leaf = typename decltype(node)::type;
            if constexpr ((Leaf::role == leaf_role::param) == Parameters) {
                const auto values = binding_for<Leaf>(bindings...).values();
                extents.add_leaf<kind_of<Leaf>>(Leaf::name.view(), values.rows(), values.cols(), Parameters);
            }
        });
    };
    sizes extents;
    try {
        add(extents, std::true_type{});
    } catch (const shape_error&) {
        // The parameters disagree among themselves: this pass throws, blaming one against the inputs.
        sizes inputs_first;
        add(inputs_first, std::false_type{});
        add(inputs_first, std::true_type{});
        throw;  // unreachable: the same leaves disagree in any order
    }
    add(extents, std::false_type{});
    boost::hana::for_each(leaves_of(G{}), [&](auto node) {
        using Leaf = typename decltype(node)::type;
        const auto values = binding_for<Leaf>(bindings...).values();
        check_leaf_values<Leaf>(values);
        if constexpr (Leaf::role == leaf_role::mask && divides_by_count_of<G, Leaf>()) check_mask_keeps_a_token<Leaf>(values);
    });
    return extents;
}

// The element type bound arrays carry (number bindings of Scalar leaves excepted): double when
// there is none.
template <class... Bindings>
struct bound_element {
    using type = double;
};
template <class First, class... Rest>
struct bound_element<First, Rest...> {
    using type = std::conditional_t<std::is_same_v<kind_of<typename First::leaf_type>, Scalar> ||
                                        is_statistic_leaf<typename First::leaf_type>,
                                    typename bound_element<Rest...>::type, typename First::value_type>;
};

// A kernel reads one element type T: every bound array holds it, but number bindings of Scalar
// leaves and statistic leaves, which hold double data.
template <class T, class... Bindings>
inline constexpr bool bound_elements_agree =
    ((std::is_same_v<kind_of<typename Bindings::leaf_type>, Scalar> ||
      std::is_same_v<typename Bindings::value_type, std::conditional_t<is_statistic_leaf<typename Bindings::leaf_type>, double, T>>) &&
     ...);

// Says where bound_elements_agree fails for an array that is not a statistic (a statistic leaf
// bound to float data is refused where it is bound).
template <class T, class... Bindings>
constexpr void check_bound_elements() {
    static_assert(((std::is_same_v<kind_of<typename Bindings::leaf_type>, Scalar> || is_statistic_leaf<typename Bindings::leaf_type> ||
                    std::is_same_v<typename Bindings::value_type, T>) &&
                   ...),
                  "etna: a kernel reads and writes one element type: every bound tensor, view or vector must hold "
                  "the element type of the outputs (float or double); convert with tensor<T>::copy_of");
}

}  // namespace etna
