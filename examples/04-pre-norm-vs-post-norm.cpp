// Lesson 04, and etna's demo: pre-norm against post-norm in deep stacks of FFN blocks.
//
// The seeds' central claim: a pre-norm stack, y = x + F(LN(x)), trains at any depth, because
// its residual path carries the gradient down unchanged; a post-norm stack, y = LN(x + F(x)),
// passes the gradient through a norm in every layer, and needs care (a learning-rate warm-up)
// to train deep. Xiong et al. (2020, "On Layer Normalization in the Transformer Architecture")
// measured it at initialization: in post-norm the gradient of a block's weights grows towards
// the output layer; in pre-norm it is about the same in every layer (their Fig. 3).
//
// This program trains both, at depths 6, 12, 24 and 48, on a task generated here (no download):
// classify random vectors by a fixed random "teacher" network. Every block is
// ffn(h) = linear(gelu(linear(h, W1, b1)), W2, b2) in the block kind under test, written as an
// expression and compiled by etna: the forward and backward are fused kernels with GEMMs in
// tiles of tokens, the gradients derived, the optimizer (AdamW) a fused kernel too.
// For each run it measures, before training, the gradient norm of every block's W2 (Xiong's
// measurement), then trains at one learning rate without warm-up; post-norm runs again with a
// linear warm-up. It prints a table, and writes CSV files and (with gnuplot) PNG plots.
// docs/tutorial/04-pre-norm-vs-post-norm.md shows and discusses a run. As the test
// tutorial.04-pre-norm-vs-post-norm it runs at a small size.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <etna/etna.hpp>
#include <etna/train/model.hpp>

#include "demo_usage.hpp"

using namespace etna;

// 1. The model, as expressions.
//! [model]
constexpr auto x = input<"x">;  // the residual stream: tokens x d
constexpr auto W1 = weight<"W1", "d", "ff">;
constexpr auto b1 = param<"b1", per_feature_over<"ff">>;
constexpr auto W2 = weight<"W2", "ff", "d">;
constexpr auto b2 = param<"b2">;
constexpr auto g = param<"ln.g">;
constexpr auto b = param<"ln.b">;

constexpr auto sublayer = [](auto h) { return ffn(h, W1, b1, W2, b2); };
constexpr auto norm = [](auto v) { return layer_norm(v, g, b); };
constexpr auto pre_block = pre_norm(x, norm, sublayer);    // x + ffn(LN(x))
constexpr auto post_block = post_norm(x, norm, sublayer);  // LN(x + ffn(x))

// The head maps the last stream to class logits. A pre-norm stack's stream is not normalized,
// so its head starts with a final LayerNorm (as GPT-2's); a post-norm stream already is.
constexpr auto Wo = weight<"Wo", "d", "classes">;
constexpr auto bo = param<"bo", per_feature_over<"classes">>;
constexpr auto pre_head = linear(layer_norm(x, param<"lnf.g">, param<"lnf.b">), Wo, bo);
constexpr auto post_head = linear(x, Wo, bo);

constexpr auto logits = input<"y", act_over<"classes">>;
constexpr auto target = input<"target", act_over<"classes">>;  // one-hot
constexpr auto loss = softmax_cross_entropy(logits, target);
//! [model]

template <class E>
using type_of = std::remove_cv_t<E>;
using pre_model = model<type_of<decltype(pre_block)>, type_of<decltype(pre_head)>, type_of<decltype(loss)>>;
using post_model = model<type_of<decltype(post_block)>, type_of<decltype(post_head)>, type_of<decltype(loss)>>;

// 2. The task: inputs x ~ N(0, 1)^d, classes by argmax of a fixed random tanh network.
struct teacher {
    std::size_t d, hidden, classes;
    std::vector<double> first, second;  // d x hidden, hidden x classes

    teacher(std::size_t d_, std::size_t classes_) : d(d_), hidden(2 * d_), classes(classes_) {
        normal_stream random{seed_for(2020, "teacher")};
        first.resize(d * hidden);
        second.resize(hidden * classes);
        for (double& w : first) w = random.next_normal() * 2.0 / std::sqrt(double(d));
        for (double& w : second) w = random.next_normal() / std::sqrt(double(hidden));
    }

    // A batch of `tokens` inputs and their one-hot classes, from stream `seed`.
    void batch(std::uint64_t seed, tensor<float>& inputs, tensor<float>& targets) const {
        normal_stream random{seed};
        std::vector<double> h(hidden), scores(classes);
        for (std::size_t t = 0; t < inputs.rows(); ++t) {
            for (std::size_t i = 0; i < d; ++i) inputs(t, i) = static_cast<float>(random.next_normal());
            std::fill(h.begin(), h.end(), 0.0);
            for (std::size_t i = 0; i < d; ++i)
                for (std::size_t j = 0; j < hidden; ++j) h[j] += inputs(t, i) * first[i * hidden + j];
            std::fill(scores.begin(), scores.end(), 0.0);
            for (std::size_t j = 0; j < hidden; ++j)
                for (std::size_t c = 0; c < classes; ++c) scores[c] += std::tanh(h[j]) * second[j * classes + c];
            const auto best = static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
            for (std::size_t c = 0; c < classes; ++c) targets(t, c) = c == best ? 1.0f : 0.0f;
        }
    }
};

// 3. The options (flags).
struct options {
    std::vector<std::size_t> depths{6, 12, 24, 48};
    std::size_t width = 64;   // d
    std::size_t ff = 256;
    std::size_t classes = 16;
    std::size_t tokens = 256;  // per step, fresh from the task each step
    std::size_t steps = 300;
    std::size_t warmup = 100;  // steps of linear warm-up, for the post-norm runs with warm-up
    double learning_rate = 1e-3;
    int threads = cpu::default_threads();
    std::string out = "pre-norm-vs-post-norm";
    bool explain = false;  // print the plans of a pre-norm block's kernels instead of training
};

std::size_t parse_count(std::string_view flag, std::string_view text) {
    std::size_t value = 0;
    const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (failure != std::errc{} || end != text.data() + text.size() || value == 0)
        throw error(fmt::format("{} needs a positive whole number, not '{}'", flag, text));
    return value;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto eq = arg.find('=');
        const std::string_view flag = arg.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view{} : arg.substr(eq + 1);
        if (flag == "--help") {
            fmt::print("{}", demo_usage);  // examples/04-pre-norm-vs-post-norm.usage
            std::exit(0);
        } else if (arg == "--explain") {
            o.explain = true;
        } else if (flag == "--depths") {
            o.depths.clear();
            for (std::size_t start = 0; start <= value.size();) {
                const std::size_t comma = std::min(value.find(',', start), value.size());
                o.depths.push_back(parse_count(flag, value.substr(start, comma - start)));
                start = comma + 1;
            }
        } else if (flag == "--width") o.width = parse_count(flag, value);
        else if (flag == "--ff") o.ff = parse_count(flag, value);
        else if (flag == "--classes") o.classes = parse_count(flag, value);
        else if (flag == "--tokens") o.tokens = parse_count(flag, value);
        else if (flag == "--steps") o.steps = parse_count(flag, value);
        else if (flag == "--warmup") o.warmup = parse_count(flag, value);
        else if (flag == "--threads") o.threads = static_cast<int>(parse_count(flag, value));
        else if (flag == "--lr") {
            o.learning_rate = std::strtod(std::string(value).c_str(), nullptr);
            if (!(o.learning_rate > 0)) throw error(fmt::format("--lr needs a positive number, not '{}'", value));
        } else if (flag == "--out") o.out = value;
        else throw error(fmt::format("unknown flag '{}' (--help lists the flags)", arg));
    }
    return o;
}

// 4. One run: the gradient norms at initialization, then training.
struct run_result {
    std::string norm;
    std::size_t depth = 0;
    bool warmup = false;
    std::vector<double> gradient_norms;  // of each layer's W2, at initialization
    std::vector<double> losses;          // per step
    double final_loss = 0;               // mean of the last tenth of the steps
    bool diverged = false;               // the loss became inf or NaN
    double steps_per_second = 0;
};

model_config configuration(const options& o, std::size_t depth) {
    model_config config;
    config.axes = {{"d", o.width}, {"ff", o.ff}, {"classes", o.classes}};
    config.starts = {{"ln.g", initialization::filled(1.0)}, {"lnf.g", initialization::filled(1.0)}};
    config.depth = depth;
    config.seed = 42;
    config.threads = o.threads;
    return config;
}

template <class Model>
run_result train(const options& o, const teacher& task, std::string norm, std::size_t depth, bool warmup) {
    Model net(configuration(o, depth));
    adamw optimizer({o.learning_rate, 0.9, 0.999, 1e-8, 0.01});
    optimizer.set_threads(o.threads);

    run_result r{std::move(norm), depth, warmup, {}, {}, 0, false, 0};
    tensor<float> inputs(o.tokens, o.width), targets(o.tokens, o.classes);
    task.batch(seed_for(7, "batch 0"), inputs, targets);
    net.forward(inputs.view(), targets.view());
    net.backward();
    for (std::size_t l = 0; l < depth; ++l) r.gradient_norms.push_back(net.parameters().gradient_norm(net.parameter(l, "W2")));

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t step = 0; step < o.steps; ++step) {
        task.batch(seed_for(7, fmt::format("batch {}", step)), inputs, targets);
        const double rate = warmup ? o.learning_rate * std::min(1.0, double(step + 1) / double(o.warmup)) : o.learning_rate;
        const double value = net.train_step(inputs.view(), targets.view(), optimizer, rate);
        r.losses.push_back(value);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        r.steps_per_second = double(step + 1) / seconds;
        if (!std::isfinite(value)) {
            r.diverged = true;
            break;
        }
        if (step % 5 == 0 || step + 1 == o.steps)
            fmt::print(stderr, "\r  {:9} depth {:2}{:10}  step {:4}/{}  loss {:7.4f}  {:6.1f} steps/s ", r.norm, depth,
                       warmup ? " + warm-up" : "", step + 1, o.steps, value, r.steps_per_second);
    }
    fmt::print(stderr, "\r{:90}\r", "");
    const std::size_t tail = std::max<std::size_t>(1, r.losses.size() / 10);
    for (std::size_t i = r.losses.size() - tail; i < r.losses.size(); ++i) r.final_loss += r.losses[i] / double(tail);
    return r;
}

// 5. Output: the table, the CSV files, the plots.
void print_table(const options& o, const std::vector<run_result>& runs) {
    fmt::print("\n{} classes, d = {}, ff = {}, {} tokens per step, {} steps, AdamW lr {} ({} steps of warm-up where marked), "
               "{} threads\n\n",
               o.classes, o.width, o.ff, o.tokens, o.steps, o.learning_rate, o.warmup, o.threads);
    fmt::print("| norm      | depth | warm-up | |dW2| layer 1 | layer N/2 | layer N | N / 1 | final loss | diverged | steps/s |\n");
    fmt::print("|-----------|------:|---------|--------------:|----------:|--------:|------:|-----------:|----------|--------:|\n");
    for (const run_result& r : runs) {
        const auto& n = r.gradient_norms;
        fmt::print("| {:9} | {:5} | {:7} | {:13.3g} | {:9.3g} | {:7.3g} | {:5.2f} | {:10.4f} | {:8} | {:7.1f} |\n", r.norm, r.depth,
                   r.warmup ? "yes" : "no", n.front(), n[n.size() / 2], n.back(), n.back() / n.front(), r.final_loss,
                   r.diverged ? "yes" : "no", r.steps_per_second);
    }
    fmt::print("\nThe loss of guessing (uniform over the classes) is ln {} = {:.4f}.\n", o.classes, std::log(double(o.classes)));
}

std::string run_name(const run_result& r) { return fmt::format("{}{}", r.norm, r.warmup ? "+warmup" : ""); }

void write_files(const options& o, const std::vector<run_result>& runs) {
    std::filesystem::create_directories(o.out);
    const auto path = [&](std::string_view name) { return (std::filesystem::path(o.out) / name).string(); };
    {
        std::ofstream losses(path("losses.csv"));
        losses << "run,depth,step,loss\n";
        for (const run_result& r : runs)
            for (std::size_t s = 0; s < r.losses.size(); ++s) losses << fmt::format("{},{},{},{}\n", run_name(r), r.depth, s + 1, r.losses[s]);
        std::ofstream norms(path("gradient-norms.csv"));
        norms << "run,depth,layer,gradient_norm_W2\n";
        for (const run_result& r : runs)
            for (std::size_t l = 0; l < r.gradient_norms.size(); ++l)
                norms << fmt::format("{},{},{},{}\n", run_name(r), r.depth, l + 1, r.gradient_norms[l]);
    }
    fmt::print("wrote {} and {}\n", path("losses.csv"), path("gradient-norms.csv"));
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        fmt::print("gnuplot not found (Debian: gnuplot-nox): no plots drawn\n");
        return;
    }
    std::ofstream script(path("plots.gp"));
    const std::size_t columns = std::min<std::size_t>(2, o.depths.size());
    const std::size_t rows = (o.depths.size() + columns - 1) / columns;
    script << fmt::format("set datafile separator ','\nset terminal pngcairo size 1400,{} font ',11'\nset key top right\n", 450 * rows);
    script << fmt::format("set output '{}'\nset multiplot layout {},{} title 'training loss per step (cross-entropy)'\n",
                          path("loss-curves.png"), rows, columns);
    for (const std::size_t depth : o.depths) {
        script << fmt::format("set title 'depth {}'\nset xlabel 'step'\nset ylabel 'loss'\nset yrange [0:{}]\n", depth,
                              2 * std::log(double(o.classes)));
        script << "plot ";
        std::string separator;
        for (const char* run : {"pre-norm", "post-norm", "post-norm+warmup"}) {
            script << separator
                   << fmt::format("'{}' using ($2=={} && strcol(1) eq '{}' ? $3 : NaN):4 with lines lw 2 title '{}'",
                                  path("losses.csv"), depth, run, run);
            separator = ", ";
        }
        script << "\n";
    }
    script << "unset multiplot\n";
    script << fmt::format("set output '{}'\nset multiplot layout {},{} title '|dLoss/dW2| of each layer at initialization'\n",
                          path("gradient-norms.png"), rows, columns);
    script << "set logscale y\nset autoscale y\n";
    for (const std::size_t depth : o.depths) {
        script << fmt::format("set title 'depth {}'\nset xlabel 'layer'\nset ylabel 'gradient norm'\n", depth);
        script << fmt::format("plot '{}' using ($2=={} && strcol(1) eq 'pre-norm' ? $3 : NaN):4 with linespoints lw 2 title "
                              "'pre-norm', '' using ($2=={} && strcol(1) eq 'post-norm' ? $3 : NaN):4 with linespoints lw 2 "
                              "title 'post-norm'\n",
                              path("gradient-norms.csv"), depth, depth);
    }
    script << "unset multiplot\n";
    script.close();
    if (std::system(fmt::format("gnuplot '{}'", path("plots.gp")).c_str()) == 0)
        fmt::print("drew {} and {}\n", path("loss-curves.png"), path("gradient-norms.png"));
    else
        fmt::print("gnuplot failed on {}: no plots drawn\n", path("plots.gp"));
}

int main(int argc, char** argv) try {
    const options o = parse(argc, argv);
    if (o.explain) {
        //! [explain]
        const pre_model net(configuration(o, 1));
        fmt::print("{}", explain(net.block_pair()));
        //! [explain]
        return 0;
    }
    const teacher task(o.width, o.classes);
    fmt::print("pre-norm vs post-norm: {} stacks of FFN blocks, trained with etna\n", 3 * o.depths.size());
    std::vector<run_result> runs;
    for (const std::size_t depth : o.depths) {
        runs.push_back(train<pre_model>(o, task, "pre-norm", depth, false));
        runs.push_back(train<post_model>(o, task, "post-norm", depth, false));
        runs.push_back(train<post_model>(o, task, "post-norm", depth, true));
    }
    print_table(o, runs);
    write_files(o, runs);
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "04-pre-norm-vs-post-norm: {}\n", e.what());
    return 1;
}
