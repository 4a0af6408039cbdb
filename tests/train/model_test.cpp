// Training: AdamW as a fused kernel against the textbook update, deterministic initialization,
// stacks of pre-norm and post-norm FFN blocks whose loss decreases (cross-entropy and MSE), and
// checkpoints of a model (what they hold, against docs/checkpoint-format.md).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <etna/etna.hpp>
#include <etna/train/model.hpp>
#include <support/ffn_block.hpp>
#include <support/shape_error.hpp>

using namespace etna;

using namespace etna::testing::ffn_block;

namespace {

constexpr auto Wo = weight<"Wo", "d", "out">;
constexpr auto bo = param<"bo", per_feature_over<"out">>;
using pre_block = std::remove_cv_t<decltype(pre)>;
using post_block = std::remove_cv_t<decltype(post)>;
using head = std::remove_cv_t<decltype(linear(x, Wo, bo))>;
constexpr auto y = input<"y", act_over<"out">>;
constexpr auto target = input<"target", act_over<"out">>;
using cross_entropy = std::remove_cv_t<decltype(softmax_cross_entropy(y, target))>;
using squared_error = std::remove_cv_t<decltype(mse_loss(y, target))>;

model_config small_config(std::size_t depth, std::uint64_t seed = 3) {
    model_config config;
    config.axes = {{"d", 16}, {"ff", 48}, {"out", 5}};
    config.starts = {{"g", initialization::filled(1.0)}};
    config.depth = depth;
    config.seed = seed;
    return config;
}

// 96 tokens of 16 features, and one-hot classes of a fixed function of them.
struct task {
    tensor<float> inputs{96, 16};
    tensor<float> classes{96, 5, 0.0f};
    task() {
        normal_stream random{11};
        for (std::size_t i = 0; i < inputs.size(); ++i) inputs.data()[i] = static_cast<float>(random.next_normal());
        for (std::size_t t = 0; t < inputs.rows(); ++t) {
            const double score = inputs(t, 0) + inputs(t, 1) * inputs(t, 2);
            classes(t, static_cast<std::size_t>(std::floor(std::abs(score) * 2)) % 5) = 1.0f;
        }
    }
};

}  // namespace

TEST_CASE("AdamW as one fused kernel equals the textbook update", "[train][adamw]") {
    tensor<float> p(3, 7), gradient(3, 7), m(3, 7, 0.0f), v(3, 7, 0.0f);
    tensor<double> p_ref(3, 7), m_ref(3, 7, 0.0), v_ref(3, 7, 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
        p.data()[i] = 0.1f * static_cast<float>(i);
        gradient.data()[i] = 0.05f * (7.0f - static_cast<float>(i));
        p_ref.data()[i] = p.data()[i];
    }
    adamw optimizer;
    const adamw_options o = optimizer.options();
    for (std::size_t step = 1; step <= 3; ++step) {
        optimizer.update(p.view(), gradient.view(), m.view(), v.view(), step, 1e-2, true);
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double gi = gradient.data()[i];
            m_ref.data()[i] = o.beta1 * m_ref.data()[i] + (1 - o.beta1) * gi;
            v_ref.data()[i] = o.beta2 * v_ref.data()[i] + (1 - o.beta2) * gi * gi;
            const double m_hat = m_ref.data()[i] / (1 - std::pow(o.beta1, double(step)));
            const double v_hat = v_ref.data()[i] / (1 - std::pow(o.beta2, double(step)));
            p_ref.data()[i] -= 1e-2 * o.weight_decay * p_ref.data()[i] + 1e-2 * m_hat / (std::sqrt(v_hat) + o.epsilon);
        }
    }
    for (std::size_t i = 0; i < p.size(); ++i) CHECK(p.data()[i] == Approx(p_ref.data()[i]).margin(1e-6));
    CHECK_THROWS_WITH(optimizer.update(p.view(), gradient.view(), m.view(), v.view(), 0, 1e-2, true),
                      Catch::Contains("adamw steps count from 1"));
}

TEST_CASE("parameters start the same from the same seed, and differently from another", "[train][init]") {
    model<pre_block, head, cross_entropy> first(small_config(2, 5)), again(small_config(2, 5)), other(small_config(2, 6));
    const auto same = [](view<float> a, view<float> b) {
        return a.rows() == b.rows() && a.cols() == b.cols() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    const std::size_t w1 = first.parameter(1, "W1");
    CHECK(same(first.parameters().value(w1), again.parameters().value(w1)));
    CHECK(!same(first.parameters().value(w1), other.parameters().value(w1)));
    // Weights start with std 1 / sqrt(fan-in); gains at 1, biases at 0.
    const view<float> weights = first.parameters().value(w1);
    double square_sum = 0;
    for (std::size_t r = 0; r < weights.rows(); ++r)
        for (std::size_t c = 0; c < weights.cols(); ++c) square_sum += double(weights(r, c)) * weights(r, c);
    CHECK(std::sqrt(square_sum / double(weights.size())) == Approx(1.0 / 4.0).epsilon(0.1));
    CHECK(first.parameters().value(first.parameter(0, "g"))(0, 3) == 1.0f);
    CHECK(first.parameters().value(first.parameter(0, "b1"))(0, 3) == 0.0f);
}

TEST_CASE("training a small stack reduces its loss", "[train]") {
    const task data;
    const auto train = [&](auto& net) {
        adamw optimizer;
        const double first = net.train_step(data.inputs.view(), data.classes.view(), optimizer, 3e-3);
        double last = first;
        for (int step = 1; step < 60; ++step) last = net.train_step(data.inputs.view(), data.classes.view(), optimizer, 3e-3);
        CAPTURE(first, last);
        CHECK(std::isfinite(last));
        CHECK(last < 0.5 * first);
    };
    model<pre_block, head, cross_entropy> pre(small_config(3));
    train(pre);
    model<post_block, head, cross_entropy> post(small_config(3));
    train(post);
    model<pre_block, head, squared_error> regression(small_config(2));
    train(regression);
}

TEST_CASE("a checkpoint round-trips a model bit-exactly, and a corrupt one is refused", "[train][checkpoint]") {
    const task data;
    const std::string path = (std::filesystem::temp_directory_path() / "etna-model-test.ckpt").string();
    model<pre_block, head, cross_entropy> trained(small_config(2));
    adamw optimizer;
    for (int step = 0; step < 3; ++step) trained.train_step(data.inputs.view(), data.classes.view(), optimizer, 3e-3);
    trained.save(path);

    // Another model of the same configuration, another seed: loading makes it the same, moments
    // and step count included, so that the next steps agree bitwise.
    model<pre_block, head, cross_entropy> restored(small_config(2, 99));
    restored.load(path);
    CHECK(restored.parameters().steps() == 3);
    adamw again;
    const double next = trained.train_step(data.inputs.view(), data.classes.view(), optimizer, 3e-3);
    const double restored_next = restored.train_step(data.inputs.view(), data.classes.view(), again, 3e-3);
    CHECK(std::memcmp(&next, &restored_next, sizeof next) == 0);
    for (std::size_t i = 0; i < trained.parameters().size(); ++i) {
        const view<float> a = trained.parameters().value(i), b = restored.parameters().value(i);
        CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }

    // A model of another depth refuses the file; so does every model, once a byte is flipped.
    model<pre_block, head, cross_entropy> deeper(small_config(3));
    CHECK_THROWS_WITH(deeper.load(path), Catch::Contains("is of another model: its depth is 2, this model's is 3"));
    {
        std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(200);
        char byte = 0;
        file.read(&byte, 1);
        file.seekp(200);
        byte = static_cast<char>(byte ^ 0x10);
        file.write(&byte, 1);
    }
    CHECK_THROWS_WITH(restored.load(path), Catch::Contains("corrupt"));
    std::filesystem::remove(path);
}

TEST_CASE("a batch of no tokens is refused with an error that names the batch, before any step", "[train]") {
    // Its mean loss would be 0 / 0, and the step would still decay every parameter.
    model<pre_block, head, cross_entropy> net(small_config(2));
    const tensor<float> no_inputs(0, 16), no_targets(0, 5);
    const auto refused = Catch::Contains("the batch has no tokens (inputs of 0 x 16)");
    CHECK_THROWS_WITH(net.forward(no_inputs.view(), no_targets.view()), refused);
    const tensor<float> before = tensor<float>::copy_of(view<const float>(net.parameters().value(0)));
    adamw optimizer;
    CHECK_THROWS_WITH(net.train_step(no_inputs.view(), no_targets.view(), optimizer, 1e-2), refused);
    CHECK(net.parameters().steps() == 0);
    const view<float> after = net.parameters().value(0);
    CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
}

TEST_CASE("a batch of the wrong shape is refused naming the inputs or the targets, against the model's sizes",
          "[train][shape]") {
    // Not a parameter of the first layer (ln.g) nor the head's "output 0": the argument passed.
    model<pre_block, head, cross_entropy> net(small_config(2));
    const tensor<float> before = tensor<float>::copy_of(view<const float>(net.parameters().value(0)));
    adamw optimizer;
    const tensor<float> inputs(128, 16, 0.5f), targets(128, 5, 0.2f);
    const tensor<float> wide_inputs(128, 17, 0.5f), narrow_targets(128, 4, 0.25f), short_targets(100, 5, 0.2f);

    SECTION("inputs wider than the model") {
        const std::string message = "etna: model: the inputs are 128 x 17, but the model's width (axis 'd') is 16: inputs "
                                    "are tokens x d";
        testing::require_shape_error([&] { (void)net.forward(wide_inputs.view(), targets.view()); }, "inputs", 16, 17, message);
        testing::require_shape_error([&] { (void)net.train_step(wide_inputs.view(), targets.view(), optimizer, 1e-2); },
                                  "inputs", 16, 17, message);
    }
    SECTION("targets of another width than the head's outputs") {
        const std::string message = "etna: model: the targets are 128 x 4, but the head has 5 outputs (axis 'out'): "
                                    "targets are tokens x out";
        testing::require_shape_error([&] { (void)net.forward(inputs.view(), narrow_targets.view()); }, "targets", 5, 4, message);
        testing::require_shape_error([&] { (void)net.train_step(inputs.view(), narrow_targets.view(), optimizer, 1e-2); },
                                  "targets", 5, 4, message);
    }
    SECTION("targets of another number of tokens than the inputs") {
        testing::require_shape_error([&] { (void)net.forward(inputs.view(), short_targets.view()); }, "targets", 128, 100,
                                  "etna: model: the targets have 100 tokens (rows), but the inputs have 128: one target "
                                  "row per input row");
    }
    CHECK(net.parameters().steps() == 0);
    const view<float> after = net.parameters().value(0);
    CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
}

namespace {

// The first cells of the table in `page` whose header's first cell is `header`, between
// backticks: the names docs/checkpoint-format.md lists.
std::vector<std::string> listed_names(const std::string& page, const std::string& header) {
    std::ifstream in(page);
    REQUIRE(in);
    std::vector<std::string> names;
    std::string line;
    bool in_table = false;
    while (std::getline(in, line)) {
        if (!in_table) {
            in_table = line.starts_with("| " + header);
            if (in_table) std::getline(in, line);  // the |---| row
            continue;
        }
        if (!line.starts_with("|")) break;
        const std::size_t open = line.find('`');
        const std::size_t close = line.find('`', open + 1);
        REQUIRE(close != std::string::npos);
        const std::size_t bar = line.find('|', 1);
        REQUIRE(close < bar);  // the name is in the first cell
        names.push_back(line.substr(open + 1, close - open - 1));
    }
    INFO(page << ": no table headed '" << header << "'");
    REQUIRE(!names.empty());
    return names;
}

// A listed name as a pattern: <l> is a layer number, any other <...> one or more characters.
bool matches(const std::string& pattern, const std::string& name) {
    std::string expression;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '<') {
            const std::size_t end = pattern.find('>', i);
            expression += pattern.compare(i, end - i + 1, "<l>") == 0 ? "[0-9]+" : ".+";
            i = end;
        } else if (std::isalnum(static_cast<unsigned char>(pattern[i]))) {
            expression += pattern[i];
        } else {
            expression += std::string("\\") + pattern[i];
        }
    }
    return std::regex_match(name, std::regex(expression));
}

// Every written name matches exactly one listed pattern, and every pattern some written name.
void check_listed(const std::vector<std::string>& patterns, const std::vector<std::string>& written, const std::string& what) {
    for (const std::string& name : written) {
        INFO(what << " '" << name << "' is written by model::save");
        CHECK(std::count_if(patterns.begin(), patterns.end(), [&](const std::string& p) { return matches(p, name); }) == 1);
    }
    for (const std::string& pattern : patterns) {
        INFO(what << " '" << pattern << "' is listed in docs/checkpoint-format.md");
        CHECK(std::any_of(written.begin(), written.end(), [&](const std::string& name) { return matches(pattern, name); }));
    }
}

}  // namespace

TEST_CASE("the checkpoint page lists what a model saves", "[train][checkpoint]") {
    const std::string page = std::string(ETNA_SOURCE_DIR) + "/docs/checkpoint-format.md";
    const std::string path = (std::filesystem::temp_directory_path() / "etna-model-keys-test.ckpt").string();
    model<pre_block, head, cross_entropy> net(small_config(2));
    net.save(path);
    const checkpoint saved = checkpoint::load(path);
    std::filesystem::remove(path);
    check_listed(listed_names(page, "Metadata key"), saved.metadata_keys(), "metadata key");
    check_listed(listed_names(page, "Tensor name"), saved.names(), "tensor");
    // The patterns are no looser than the page says.
    CHECK(matches("layer<l>.<leaf>", "layer12.ln.g"));
    CHECK_FALSE(matches("layer<l>.<leaf>", "layerx.g"));
    CHECK_FALSE(matches("axis.<name>", "axis."));
}
