// Bindings: every form of `leaf = data` evaluates correctly, and every size mismatch is a shape_error.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <support/random_tensor.hpp>
#include <support/shape_error.hpp>

using namespace etna;

namespace {

constexpr auto x = input<"x">;             // Act
constexpr auto z = input<"z">;             // a second Act
constexpr auto t = input<"t", PerToken>;   // PerToken
constexpr auto g = param<"g">;             // PerFeature
constexpr auto s = scalar<"s">;            // Scalar

// One leaf of each kind, each in its own role, so that a leaf read at the wrong place shows.
constexpr auto y = (x - t) * g + s;
constexpr auto x_plus_z = x + z;

constexpr std::size_t tokens = 4;
constexpr std::size_t features = 3;

// The data every binding form below carries, as plain double arrays.
struct sample {
    tensor<double> x = testing::random_tensor(tokens, features, 1);
    std::vector<double> t{0.5, -1.25, 2.0, 3.5};
    std::vector<double> g{1.5, -0.5, 2.25};
    double s = 0.75;
};

// y computed by a plain loop, in the element type T of the interpreter that is checked.
template <class T>
tensor<double> expected_y(const sample& d) {
    tensor<double> out(tokens, features);
    for (std::size_t r = 0; r < tokens; ++r)
        for (std::size_t c = 0; c < features; ++c)
            out(r, c) = static_cast<T>((static_cast<T>(d.x(r, c)) - static_cast<T>(d.t[r])) * static_cast<T>(d.g[c]) +
                                       static_cast<T>(d.s));
    return out;
}

// A vector copied into a 1 x n tensor (as a PerFeature leaf reads it) or an n x 1 one (PerToken).
template <class T>
tensor<T> as_row(const std::vector<double>& v) {
    return tensor<T>::copy_of(view<const double>(v.data(), 1, v.size()));
}
template <class T>
tensor<T> as_column(const std::vector<double>& v) {
    return tensor<T>::copy_of(view<const double>(v.data(), v.size(), 1));
}

// The result equals the loop; in double exactly the same operations are done in the same order,
// in float too (on float-rounded data), so the tolerance only absorbs a contracted multiply-add
// (a few ulps of T).
template <class T>
void require_y(const tensor<T>& actual, const sample& d) {
    const tensor<double> expected = expected_y<T>(d);
    REQUIRE(actual.rows() == tokens);
    REQUIRE(actual.cols() == features);
    for (std::size_t r = 0; r < tokens; ++r)
        for (std::size_t c = 0; c < features; ++c) {
            CAPTURE(r, c);
            CHECK(actual(r, c) == Approx(expected(r, c)).epsilon(4 * std::numeric_limits<T>::epsilon()));
        }
}

}  // namespace

TEST_CASE("tensors bound to leaves of every kind evaluate correctly", "[binding]") {
    const sample d;
    const tensor<double> t_column = as_column<double>(d.t);
    const tensor<double> g_row = as_row<double>(d.g);
    const tensor<double> s_one{{d.s}};
    require_y(interpret<double>(y, x = d.x, t = t_column, g = g_row, s = s_one), d);
}

TEST_CASE("views of mutable, const and strided data bind like tensors", "[binding]") {
    sample d;
    const tensor<double> t_column = as_column<double>(d.t);

    SECTION("a view of mutable data") {
        require_y(interpret<double>(y, x = d.x.view(), t = d.t, g = d.g, s = d.s), d);
    }
    SECTION("a view of const data") {
        const view<const double> read_only = std::as_const(d.x).view();
        require_y(interpret<double>(y, x = read_only, t = t_column.view(), g = d.g, s = d.s), d);
    }
    SECTION("strided views, with NaN between the rows so that a stray read shows") {
        // x in columns 2..4 of a wider tensor; t as the middle column of a tokens x 3 tensor.
        tensor<double> wide(tokens, features + 5, std::numeric_limits<double>::quiet_NaN());
        tensor<double> columns(tokens, 3, std::numeric_limits<double>::quiet_NaN());
        for (std::size_t r = 0; r < tokens; ++r) {
            for (std::size_t c = 0; c < features; ++c) wide(r, c + 2) = d.x(r, c);
            columns(r, 1) = d.t[r];
        }
        const view<const double> x_strided(&wide(0, 2), tokens, features, features + 5);
        const view<double> t_strided(&columns(0, 1), tokens, 1, 3);
        require_y(interpret<double>(y, x = x_strided, t = t_strided, g = d.g, s = d.s), d);
    }
}

TEST_CASE("a std::vector binds as one row to a PerFeature leaf and as one column to a PerToken leaf", "[binding]") {
    const sample d;
    const tensor<double> s_one{{d.s}};
    require_y(interpret<double>(y, x = d.x, t = d.t, g = d.g, s = s_one), d);
}

TEST_CASE("a number binds to a Scalar leaf", "[binding]") {
    sample d;
    d.s = 2.5;  // exact in float, so the double and the float number carry the same value
    SECTION("a double") { require_y(interpret<double>(y, x = d.x, t = d.t, g = d.g, s = 2.5), d); }
    SECTION("a float") { require_y(interpret<double>(y, x = d.x, t = d.t, g = d.g, s = 2.5f), d); }
    SECTION("an int") {
        d.s = 3;
        require_y(interpret<double>(y, x = d.x, t = d.t, g = d.g, s = 3), d);
    }
}

TEST_CASE("the double interpreter reads float data, and the float interpreter reads double data", "[binding]") {
    sample d;
    // Round the data to float first, so that both interpreters see the same values.
    const tensor<float> x_float = tensor<float>::copy_of(d.x.view());
    d.x = tensor<double>::copy_of(x_float.view());
    for (auto* v : {&d.t, &d.g})
        for (double& e : *v) e = static_cast<float>(e);
    const tensor<float> t_float = as_column<float>(d.t);
    const std::vector<float> g_float(d.g.begin(), d.g.end());

    SECTION("float data, double interpreter") {
        require_y(interpret<double>(y, x = x_float, t = t_float, g = g_float, s = static_cast<float>(d.s)), d);
    }
    SECTION("double data, float interpreter") {
        require_y(interpret<float>(y, x = d.x, t = d.t, g = d.g, s = d.s), d);
    }
    SECTION("float and double data in one call") {
        require_y(interpret<float>(y, x = x_float, t = d.t, g = g_float, s = d.s), d);
    }
}

TEST_CASE("two Act leaves with different feature counts throw shape_error naming the second", "[binding][shape]") {
    STATIC_REQUIRE(std::is_base_of_v<error, shape_error>);
    const tensor<double> a(4, 3, 1.0);
    const tensor<double> b(4, 5, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(x_plus_z, x = a, z = b); }, "z", 3, 5,
                        "etna: shape mismatch at leaf 'z' (Act): 5 features, expected 3 (the features of leaf 'x')");
}

TEST_CASE("two Act leaves with different token counts throw shape_error naming the second", "[binding][shape]") {
    const tensor<double> a(4, 3, 1.0);
    const tensor<double> b(6, 3, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(x_plus_z, x = a, z = b); }, "z", 4, 6,
                        "etna: shape mismatch at leaf 'z' (Act): 6 tokens, expected 4 (the tokens of leaf 'x')");
}

// Parameters are a layer's declared sizes, inputs the data passed through it: an input that
// disagrees with the parameters (which agree among themselves) is the argument named.
TEST_CASE("an input whose features disagree with its parameter's is named, against the parameter", "[binding][shape]") {
    const sample d;
    const std::vector<double> five(5, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(y, x = d.x, t = d.t, g = five, s = d.s); }, "x", 5, 3,
                        "etna: shape mismatch at leaf 'x' (Act): 3 features, expected 5 (the features of parameter 'g')");
}

TEST_CASE("an input wider than a LayerNorm's parameters is named, not the parameters", "[binding][shape]") {
    // 128 x 17 through a LayerNorm of width 16 (the case): 'x' is wrong, not 'ln.g'.
    constexpr auto ln_g = param<"ln.g">;
    constexpr auto ln_b = param<"ln.b">;
    constexpr auto norm = layer_norm(x, ln_g, ln_b);
    const tensor<double> wide(128, 17, 1.0);
    const std::vector<double> gains(16, 1.0), biases(16, 0.0);
    const std::string message =
        "etna: shape mismatch at leaf 'x' (Act): 17 features, expected 16 (the features of parameter 'ln.g')";
    testing::require_shape_error([&] { (void)interpret<double>(norm, x = wide, ln_g = gains, ln_b = biases); }, "x", 16, 17, message);
    testing::require_shape_error([&] { (void)compile(norm)(x = wide, ln_g = gains, ln_b = biases); }, "x", 16, 17, message);
}

TEST_CASE("a parameter that disagrees with the other parameters is named, against the input", "[binding][shape]") {
    constexpr auto ln_g = param<"ln.g">;
    constexpr auto ln_b = param<"ln.b">;
    constexpr auto norm = layer_norm(x, ln_g, ln_b);
    const tensor<double> input(4, 3, 1.0);
    const std::vector<double> three(3, 1.0), five(5, 1.0);
    testing::require_shape_error([&] { (void)compile(norm)(x = input, ln_g = five, ln_b = three); }, "ln.g", 3, 5,
                        "etna: shape mismatch at leaf 'ln.g' (PerFeature): 5 features, expected 3 (the features of leaf 'x')");
    testing::require_shape_error([&] { (void)compile(norm)(x = input, ln_g = three, ln_b = five); }, "ln.b", 3, 5,
                        "etna: shape mismatch at leaf 'ln.b' (PerFeature): 5 features, expected 3 (the features of leaf 'x')");
}

TEST_CASE("a linear layer's input is checked against its weight's rows; its bias against the weight", "[binding][shape]") {
    constexpr auto W = weight<"W", "d", "ff">;
    constexpr auto bias = param<"bias", per_feature_over<"ff">>;
    constexpr auto layer = linear(x, W, bias);
    const tensor<double> input(4, 3, 1.0), wide(4, 5, 1.0), w(3, 6, 0.5);
    const std::vector<double> six(6, 0.0), seven(7, 0.0);
    testing::require_shape_error([&] { (void)compile(layer)(x = wide, W = w, bias = six); }, "x", 3, 5,
                        "etna: shape mismatch at leaf 'x' (Act): 5 features, expected 3 (the rows of parameter 'W')");
    // On an axis no input has, the parameters can only be checked against each other.
    testing::require_shape_error([&] { (void)compile(layer)(x = input, W = w, bias = seven); }, "bias", 6, 7,
                        "etna: shape mismatch at leaf 'bias' (PerFeature[ff]): 7 features, expected 6 (the features of "
                        "parameter 'W')");
}

TEST_CASE("a PerFeature leaf with more than one row throws shape_error naming it", "[binding][shape]") {
    const sample d;
    const tensor<double> four_rows(4, 3, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(y, x = d.x, t = d.t, g = four_rows, s = d.s); }, "g", 1, 4,
                        "etna: shape mismatch at leaf 'g' (PerFeature): 4 rows, expected 1 (a PerFeature value has one row)");
}

TEST_CASE("a PerToken leaf of the wrong length throws shape_error naming it", "[binding][shape]") {
    const sample d;
    const std::vector<double> five(5, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(y, x = d.x, t = five, g = d.g, s = d.s); }, "t", 4, 5,
                        "etna: shape mismatch at leaf 't' (PerToken): 5 tokens, expected 4 (the tokens of leaf 'x')");
}

TEST_CASE("a PerToken leaf with more than one column throws shape_error naming it", "[binding][shape]") {
    const sample d;
    const tensor<double> two_columns(tokens, 2, 1.0);
    testing::require_shape_error([&] { (void)interpret<double>(y, x = d.x, t = two_columns, g = d.g, s = d.s); }, "t", 1, 2,
                        "etna: shape mismatch at leaf 't' (PerToken): 2 columns, expected 1 (a PerToken value has one column)");
}

TEST_CASE("a Scalar leaf bound to a 2-element vector throws shape_error naming it", "[binding][shape]") {
    const sample d;
    const std::vector<double> two{1.0, 2.0};
    testing::require_shape_error([&] { (void)interpret<double>(y, x = d.x, t = d.t, g = d.g, s = two); }, "s", 1, 2,
                        "etna: shape mismatch at leaf 's' (Scalar): 2 columns, expected 1 (a Scalar value has one column)");
}

TEST_CASE("a mask leaf holding anything but 0 and 1 throws etna::error naming it and the token", "[binding][mask]") {
    // A mask says which tokens count; a 0.5 would silently weigh a token, so it is refused.
    const tensor<double> values = testing::random_tensor(3, 2, 7);
    const std::vector<double> half{1, 1, 0.5};
    const std::vector<double> valid{1, 0, 1};
    constexpr auto masked_mean = mean_t(x, mask<"pad">);
    CHECK_THROWS_WITH(interpret<double>(masked_mean, x = values, mask<"pad"> = half),
                      "etna: mask 'pad' must hold only 0 and 1, but token 2 holds 0.5");
    CHECK_NOTHROW(interpret<double>(masked_mean, x = values, mask<"pad"> = valid));
}

TEST_CASE("an output that is a Scalar leaf bound to a number stays readable after the run", "[binding]") {
    // The number lives in the binding, a temporary of the call; the interpreter keeps a copy.
    const sample d;
    constexpr auto both = outputs(s, x + s);
    interpreter<double, decltype(both)> it;
    it.run(x = d.x, s = 2.5);
    CHECK(it.output<0>()(0, 0) == 2.5);
}
