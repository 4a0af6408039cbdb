// model: a stack of N blocks (one compiled training pair reused by every layer), a head and a loss.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/filter.hpp>
#include <boost/hana/tuple.hpp>
#include <fmt/format.h>

#include <etna/autodiff/grad.hpp>
#include <etna/cpu/compile.hpp>
#include <etna/cpu/into.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/pair/training_pair.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>
#include <etna/store/checkpoint.hpp>
#include <etna/train/adamw.hpp>
#include <etna/train/parameters.hpp>

namespace etna {

// The sizes of a model's feature axes ({"d", 512}, {"ff", 2048}, ...) and how its parameters
// start, by leaf name (a weight not named starts normal by fan-in, a vector not named at 0).
struct model_config {
    std::vector<std::pair<std::string, std::size_t>> axes;
    std::vector<std::pair<std::string, initialization>> starts;
    std::size_t depth = 1;
    std::uint64_t seed = 1;
    int threads = cpu::default_threads();

    [[nodiscard]] std::size_t axis(std::string_view name) const {
        for (const auto& [axis_name, size] : axes)
            if (axis_name == name) return size;
        throw error(fmt::format("etna: the model's configuration gives no size for feature axis '{}'", name));
    }
    template <class Leaf>
    [[nodiscard]] initialization start_of() const {
        for (const auto& [name, start] : starts)
            if (name == Leaf::name.view()) return start;
        return is_weight<kind_of<Leaf>> ? initialization::fan_in() : initialization::filled(0.0);
    }
};

namespace training {

// The parameter leaves of E (param<...> and weight<...>), a hana tuple of types.
template <class E>
using parameter_leaves_t = decltype(boost::hana::filter(leaves_of(E{}), [](auto node) {
    return boost::hana::bool_c<decltype(node)::type::role == leaf_role::param>;
}));

// The shape of a parameter leaf's tensor.
template <class Leaf>
std::pair<std::size_t, std::size_t> shape_of(const model_config& config) {
    using K = kind_of<Leaf>;
    if constexpr (is_weight<K>) return {config.axis(K::input_axis.view()), config.axis(K::feature_axis.view())};
    else if constexpr (K::has_features) return {1, config.axis(K::feature_axis.view())};
    else return {1, 1};
}

template <class... Types>
constexpr auto wrt_stream_and(boost::hana::tuple<Types...>) {
    return wrt(input<"x">, typename Types::type{}...);
}

// A part of the model (a block or the head): its training pair, and its parameters' positions.
template <class E>
struct part {
    using leaves = parameter_leaves_t<E>;
    static constexpr std::size_t parameter_count = decltype(boost::hana::length(leaves{}))::value;
    using pair_type = decltype(vjp(E{}, wrt_stream_and(leaves{})));

    // Adds the parameters of one instance, named prefix + leaf name; returns the first index.
    static std::size_t add_parameters(parameter_set& set, std::string_view prefix, const model_config& config) {
        std::size_t first = set.size();
        [&]<class... Types>(boost::hana::tuple<Types...>) {
            const auto add = [&]<class Leaf>(Leaf*) {
                const auto [rows, cols] = shape_of<Leaf>(config);
                set.add(fmt::format("{}{}", prefix, Leaf::name.view()), rows, cols, is_weight<kind_of<Leaf>>, config.start_of<Leaf>());
            };
            (add(static_cast<typename Types::type*>(nullptr)), ...);
        }(leaves{});
        return first;
    }

    // f(bindings...) with each parameter leaf bound to its tensor of the instance at `first`.
    template <class F>
    static decltype(auto) with_parameters(parameter_set& set, std::size_t first, F&& f) {
        return [&]<class... Types, std::size_t... K>(boost::hana::tuple<Types...>, std::index_sequence<K...>) -> decltype(auto) {
            return f((typename Types::type{} = set.value(first + K))...);
        }(leaves{}, std::make_index_sequence<parameter_count>{});
    }

    // into(dx, the instance's gradients...) for its backward.
    static auto gradients_into(parameter_set& set, std::size_t first, view<float> dx) {
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
            return into(dx, set.gradient(first + K)...);
        }(std::make_index_sequence<parameter_count>{});
    }
};

}  // namespace training

// A model: `depth` layers of Block (an expression of input<"x">, the residual stream, and of
// parameter leaves), then Head (an expression of input<"x"> and its own parameters: a final norm
// and a linear layer to logits), then Loss (a Scalar expression of input<"y">, the head's output,
// and input<"target">). Every layer runs the one training pair of Block with its own parameters
// (named "layer<l>.<leaf>") and its own tape; the head's are named "head.<leaf>". Gradients
// flow back through the same pairs, the loss's by its derived gradient; one AdamW step updates
// everything. Not safe to call from two threads at once.
template <class Block, class Head, class Loss>
class model {
    static constexpr auto x = input<"x">;
    // The model binds the stream and the parameters, nothing else: a block or head that reads a
    // mask, positions or another input is refused here, and a stand-in (the stream itself) keeps
    // that refusal the only error.
    template <class E>
    static constexpr bool reads_stream_and_parameters = []<class... Leaves>(boost::hana::tuple<Leaves...>) {
        return ((Leaves::type::role == leaf_role::param || std::is_same_v<typename Leaves::type, std::remove_cv_t<decltype(x)>>) && ...);
    }(decltype(leaves_of(E{})){});
    static_assert(reads_stream_and_parameters<Block> && reads_stream_and_parameters<Head>,
                  "etna: a model's block and head read only input<\"x\"> (the residual stream) and parameters (param<...>, "
                  "weight<...>): the model has nothing to bind a mask, positions or another input to; compile or vjp such "
                  "a block yourself and bind its inputs at the call");
    template <class E>
    using checked = std::conditional_t<reads_stream_and_parameters<E>, E, std::remove_cv_t<decltype(x)>>;
    using block_part = training::part<checked<Block>>;
    using head_part = training::part<checked<Head>>;
    static constexpr auto y = input<"y", kind_of<Head>>;
    static constexpr auto target = input<"target", kind_of<Head>>;
    static_assert(std::is_same_v<kind_of<Block>, Act>, "etna: a model's block maps the residual stream (Act) to itself");
    static_assert(std::is_same_v<kind_of<Loss>, Scalar>, "etna: a model's loss is a Scalar expression of input<\"y\"> "
                                                        "(the head's output) and input<\"target\">");
    template <class Leaf>
    static constexpr bool loss_reads = index_in<std::remove_cv_t<Leaf>>(topological_nodes_t<Loss>{}) < node_count<Loss>;
    static_assert(loss_reads<decltype(y)> && loss_reads<decltype(target)>,
                  "etna: a model's loss reads input<\"y\", K> (the head's output) and input<\"target\", K>, with K the "
                  "head's kind (kind_of<Head>: its output's feature axis)");

public:
    explicit model(const model_config& config) : config_(config) {
        if (config.depth == 0) throw error("etna: a model needs at least one layer");
        for (std::size_t l = 0; l < config.depth; ++l)
            layer_first_.push_back(block_part::add_parameters(parameters_, fmt::format("layer{}.", l), config));
        head_first_ = head_part::add_parameters(parameters_, "head.", config);
        parameters_.allocate(config.seed);
        tapes_.resize(config.depth);
        block_.set_threads(config.threads);
        head_.set_threads(config.threads);
        loss_.set_threads(config.threads);
        loss_gradient_.set_threads(config.threads);
    }

    [[nodiscard]] std::size_t depth() const noexcept { return config_.depth; }
    [[nodiscard]] parameter_set& parameters() noexcept { return parameters_; }
    [[nodiscard]] const model_config& config() const noexcept { return config_; }
    // The index of layer l's parameter `leaf` (its gradient: parameters().gradient(index)).
    [[nodiscard]] std::size_t parameter(std::size_t layer, std::string_view leaf) const {
        return parameters_.index_of(fmt::format("layer{}.{}", layer, leaf));
    }

    // The loss of `inputs` (tokens x d) against `targets` (tokens x the head's outputs), keeping
    // what the backward needs. A batch of no tokens is refused: its loss, a mean over tokens, would
    // be 0 / 0, and a training step on it would still move the parameters (AdamW's decay). A batch
    // whose widths disagree with the configuration's axes, or whose inputs and targets have other
    // numbers of tokens, is refused by a shape_error naming "inputs" or "targets" (check_batch).
    double forward(view<const float> inputs, view<const float> targets) {
        const std::size_t tokens = inputs.rows();
        if (tokens == 0)
            throw error(fmt::format("etna: model: the batch has no tokens (inputs of 0 x {}): a loss needs at least one "
                                    "token to average over",
                                    inputs.cols()));
        check_batch(inputs, targets);
        stream_.resize(config_.depth + 1);
        for (std::size_t l = 1; l <= config_.depth; ++l) cpu::workspace<1>::fit(stream_[l], tokens, inputs.cols());
        const auto stream_at = [&](std::size_t l) { return l == 0 ? inputs : view<const float>(stream_[l].view()); };
        for (std::size_t l = 0; l < config_.depth; ++l)
            block_part::with_parameters(parameters_, layer_first_[l], [&](const auto&... bound) {
                block_.forward(tapes_[l], into(stream_[l + 1]), x = stream_at(l), bound...);
            });
        cpu::workspace<1>::fit(outputs_, tokens, targets.cols());
        head_part::with_parameters(parameters_, head_first_, [&](const auto&... bound) {
            head_.forward(head_tape_, into(outputs_), x = stream_at(config_.depth), bound...);
        });
        inputs_ = inputs;
        targets_ = targets;
        loss_(into(loss_value_), y = outputs_, target = targets);
        return loss_value_(0, 0);
    }

    // The gradients of the last forward's loss, into parameters().gradient(...).
    void backward() {
        if (stream_.empty()) throw error("etna: backward needs a forward first");
        const std::size_t tokens = inputs_.rows();
        cpu::workspace<1>::fit(output_gradient_, tokens, outputs_.cols());
        loss_gradient_(into(output_gradient_), y = outputs_, target = targets_);
        for (auto& g : stream_gradient_) cpu::workspace<1>::fit(g, tokens, inputs_.cols());
        const auto stream_at = [&](std::size_t l) { return l == 0 ? inputs_ : view<const float>(stream_[l].view()); };
        head_part::with_parameters(parameters_, head_first_, [&](const auto&... bound) {
            head_.backward(head_tape_, head_part::gradients_into(parameters_, head_first_, stream_gradient_[0].view()),
                           x = stream_at(config_.depth), bound..., input<"dy", kind_of<Head>> = output_gradient_);
        });
        for (std::size_t l = config_.depth; l-- > 0;) {
            const tensor<float>& from_above = stream_gradient_[(config_.depth - l + 1) % 2];
            tensor<float>& here = stream_gradient_[(config_.depth - l) % 2];
            block_part::with_parameters(parameters_, layer_first_[l], [&](const auto&... bound) {
                block_.backward(tapes_[l], block_part::gradients_into(parameters_, layer_first_[l], here.view()), x = stream_at(l),
                                bound..., input<"dy"> = from_above);
            });
        }
    }

    // forward, backward and one AdamW step at `learning_rate`; returns the loss (before the step).
    double train_step(view<const float> inputs, view<const float> targets, adamw& optimizer, double learning_rate) {
        const double loss = forward(inputs, targets);
        backward();
        parameters_.step(optimizer, learning_rate);
        return loss;
    }

    // The compiled training pairs that every layer, and the head, run (for explain()).
    [[nodiscard]] const auto& block_pair() const noexcept { return block_; }
    [[nodiscard]] const auto& head_pair() const noexcept { return head_; }

    // The head's output of the last forward (logits).
    [[nodiscard]] view<const float> outputs() const { return outputs_.view(); }

    // Saves every parameter, its AdamW moments ("adam.m.<name>", "adam.v.<name>"), the optimizer's
    // step count and the model's shape (depth, axis sizes) in etna's checkpoint format
    // (store/checkpoint.hpp, docs/checkpoint-format.md).
    void save(const std::string& path) {
        std::vector<named_view> tensors;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            tensors.push_back({parameters_.name(i), parameters_.value(i)});
            tensors.push_back({"adam.m." + parameters_.name(i), parameters_.first_moment(i)});
            tensors.push_back({"adam.v." + parameters_.name(i), parameters_.second_moment(i)});
        }
        save_checkpoint(path, tensors, shape_metadata());
    }

    // Loads a checkpoint that a model of this configuration saved: all or nothing. A checkpoint
    // of another shape, or a damaged file, is refused with the reason.
    void load(const std::string& path) {
        const checkpoint saved = checkpoint::load(path);
        for (const auto& [key, value] : shape_metadata()) {
            if (key == "steps") continue;
            if (!saved.has_metadata(key) || saved.metadata(key) != value)
                throw error(fmt::format("etna: checkpoint '{}' is of another model: its {} is {}, this model's is {}", path, key,
                                        saved.has_metadata(key) ? fmt::format("{}", saved.metadata(key)) : "missing", value));
        }
        std::vector<named_mutable_view> targets;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            targets.push_back({parameters_.name(i), parameters_.value(i)});
            targets.push_back({"adam.m." + parameters_.name(i), parameters_.first_moment(i)});
            targets.push_back({"adam.v." + parameters_.name(i), parameters_.second_moment(i)});
        }
        saved.load_into(targets);
        parameters_.set_steps(saved.metadata("steps"));
    }

private:
    // The size the configuration declares for a feature axis, if it declares one.
    [[nodiscard]] std::optional<std::size_t> declared(std::string_view axis) const {
        for (const auto& [name, size] : config_.axes)
            if (name == axis) return size;
        return std::nullopt;
    }

    // The user's batch against the model's declared sizes, before any kernel runs: a kernel would
    // name one of its own leaves or buffers (a parameter, "output 0"), not the argument that is wrong.
    void check_batch(view<const float> inputs, view<const float> targets) const {
        constexpr std::string_view width_axis = Act::feature_axis.view();
        if (const auto width = declared(width_axis); width && inputs.cols() != *width)
            throw shape_error("inputs", *width, inputs.cols(),
                              fmt::format("etna: model: the inputs are {} x {}, but the model's width (axis '{}') is {}: "
                                          "inputs are tokens x {}",
                                          inputs.rows(), inputs.cols(), width_axis, *width, width_axis));
        using output_kind = kind_of<Head>;
        if constexpr (output_kind::has_features) {
            constexpr std::string_view output_axis = output_kind::feature_axis.view();
            if (const auto outputs = declared(output_axis); outputs && targets.cols() != *outputs)
                throw shape_error("targets", *outputs, targets.cols(),
                                  fmt::format("etna: model: the targets are {} x {}, but the head has {} outputs (axis '{}'): "
                                              "targets are tokens x {}",
                                              targets.rows(), targets.cols(), *outputs, output_axis, output_axis));
        } else if (targets.cols() != 1) {
            throw shape_error("targets", 1, targets.cols(),
                              fmt::format("etna: model: the targets are {} x {}, but the head has one output per token: "
                                          "targets are one column",
                                          targets.rows(), targets.cols()));
        }
        if (targets.rows() != inputs.rows())
            throw shape_error("targets", inputs.rows(), targets.rows(),
                              fmt::format("etna: model: the targets have {} tokens (rows), but the inputs have {}: one "
                                          "target row per input row",
                                          targets.rows(), inputs.rows()));
    }

    std::vector<std::pair<std::string, std::uint64_t>> shape_metadata() const {
        std::vector<std::pair<std::string, std::uint64_t>> metadata{{"depth", config_.depth}, {"steps", parameters_.steps()}};
        for (const auto& [name, size] : config_.axes) metadata.emplace_back("axis." + name, size);
        return metadata;
    }

    model_config config_;
    parameter_set parameters_;
    std::vector<std::size_t> layer_first_;
    std::size_t head_first_ = 0;
    typename block_part::pair_type block_;
    typename head_part::pair_type head_;
    std::vector<typename block_part::pair_type::tape_type> tapes_;
    typename head_part::pair_type::tape_type head_tape_;
    kernel<Loss> loss_;
    kernel<std::remove_cv_t<decltype(grad(Loss{}, wrt(input<"y", kind_of<Head>>)))>> loss_gradient_;
    std::vector<tensor<float>> stream_;          // the residual stream after each layer (0: the inputs, unused)
    std::array<tensor<float>, 2> stream_gradient_;  // the gradient of the stream, between layers
    tensor<float> outputs_, output_gradient_;
    tensor<float> loss_value_{1, 1};
    view<const float> inputs_, targets_;
};

}  // namespace etna
