// Peer: the training step of bench/train_step.cpp in LibTorch's C++ API, as a PyTorch user
// writes it: modules (LayerNorm, Linear), gelu(approximate="none"), residual adds, mse_loss,
// autograd's backward, torch::optim::AdamW with two parameter groups (the Linear weights with
// weight decay, the biases and LayerNorm parameters without, as etna's parameter_set splits
// them), zero_grad each step. Float32, default initialization, no anomaly detection.
//
// Threads: at::set_num_threads(threads) for ATen's OpenMP loops, OpenMP's previous count
// restored afterwards (torch_threads, as in peers/libtorch.cpp). ATen 1.13 leaves its BLAS
// alone, and Debian builds it on OpenBLAS (pthread), whose own pool runs every GEMM on all the
// cores whatever ATen's count: openblas_set_num_threads(threads) too, looked up in the process
// at run time (it is not in the link: nothing is set when LibTorch's BLAS is another).
//
// Memory: autograd allocates every activation and gradient afresh each step. As in
// peers/libtorch.cpp, glibc serves every block from the heap and never trims it while the
// benchmark runs (heap_blocks: mallopt M_MMAP_MAX 0, M_TRIM_THRESHOLD huge), so that a step
// reuses the blocks the previous one freed, with their pages resident, as PyTorch's caching
// allocators do on a GPU; the benchmark's page_faults counter shows what is left. Defaults
// restored afterwards.
//
// torch_threads, heap_blocks and settle are in libtorch_common.hpp, shared with
// peers/libtorch.cpp.
#include <torch/torch.h>

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../workload.hpp"
#include "libtorch_common.hpp"

namespace {

using libtorch_peer::heap_blocks;
using libtorch_peer::settle;

// OpenBLAS's thread count, when the process has OpenBLAS (in this binary only LibTorch calls it:
// the count is not restored).
void set_blas_threads(int threads) {
    using setter = void (*)(int);
    if (const auto set = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

// ATen's count (torch_threads), then OpenBLAS's, for the GEMMs that ATen's count leaves alone.
class torch_and_blas_threads : public libtorch_peer::torch_threads {
public:
    explicit torch_and_blas_threads(int threads) : torch_threads(threads) { set_blas_threads(threads); }
};

// x + ffn(LN(x)), ffn(h) = down(gelu(up(h)))
struct block_impl : torch::nn::Module {
    block_impl(std::int64_t d, std::int64_t ff)
        : norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})))),
          up(register_module("up", torch::nn::Linear(d, ff))),
          down(register_module("down", torch::nn::Linear(ff, d))) {}

    torch::Tensor forward(const torch::Tensor& x) { return x + down(torch::gelu(up(norm(x)), "none")); }

    torch::nn::LayerNorm norm;
    torch::nn::Linear up, down;
};
TORCH_MODULE_IMPL(block, block_impl);

// depth blocks, then the head: a final LayerNorm and a Linear d -> d.
struct stack_impl : torch::nn::Module {
    stack_impl(std::int64_t depth, std::int64_t d, std::int64_t ff)
        : final_norm(register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})))),
          head(register_module("head", torch::nn::Linear(d, d))) {
        for (std::int64_t l = 0; l < depth; ++l)
            blocks.push_back(register_module("block" + std::to_string(l), block(d, ff)));
    }

    torch::Tensor forward(torch::Tensor x) {
        for (auto& b : blocks) x = b(x);
        return head(final_norm(x));
    }

    std::vector<block> blocks;
    torch::nn::LayerNorm final_norm;
    torch::nn::Linear head;
};
TORCH_MODULE_IMPL(stack, stack_impl);

// The model, its optimizer and its data, under the threads and heap settings while it lives.
class trainer {
public:
    trainer(int threads, std::int64_t depth, std::int64_t tokens, std::int64_t d, std::int64_t ff, double learning_rate,
            double beta1, double beta2, double epsilon, double weight_decay)
        : threads_(threads),
          net_(depth, d, ff),
          optimizer_(parameter_groups(net_, learning_rate, beta1, beta2, epsilon, weight_decay)),
          input_data_(bench::filled(static_cast<std::size_t>(tokens * d), bench::seed_of("inputs"))),
          target_data_(bench::filled(static_cast<std::size_t>(tokens * d), bench::seed_of("targets"))),
          inputs_(torch::from_blob(input_data_.data(), {tokens, d}, torch::kFloat)),
          targets_(torch::from_blob(target_data_.data(), {tokens, d}, torch::kFloat)) {}

    double step() {
        optimizer_.zero_grad();
        const torch::Tensor loss = torch::mse_loss(net_->forward(inputs_), targets_);
        loss.backward();
        optimizer_.step();
        return loss.item<double>();
    }

private:
    // The Linear weights (the 2-d parameters) with weight decay, the rest without.
    static std::vector<torch::optim::OptimizerParamGroup> parameter_groups(stack& net, double learning_rate, double beta1,
                                                                           double beta2, double epsilon, double weight_decay) {
        std::vector<torch::Tensor> decayed, not_decayed;
        for (const auto& p : net->parameters()) (p.dim() == 2 ? decayed : not_decayed).push_back(p);
        const auto options = torch::optim::AdamWOptions(learning_rate).betas({beta1, beta2}).eps(epsilon);
        std::vector<torch::optim::OptimizerParamGroup> groups;
        const auto with_decay = [&](double decay) {
            return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(decay));
        };
        groups.emplace_back(decayed, with_decay(weight_decay));
        groups.emplace_back(not_decayed, with_decay(0));
        return groups;
    }

    torch_and_blas_threads threads_;
    heap_blocks heap_;
    stack net_;
    torch::optim::AdamW optimizer_;
    std::vector<float> input_data_, target_data_;
    torch::Tensor inputs_, targets_;
};

}  // namespace

std::function<double()> libtorch_train_step(int threads, std::int64_t depth, std::int64_t tokens, std::int64_t d,
                                            std::int64_t ff, double learning_rate, double beta1, double beta2,
                                            double epsilon, double weight_decay) {
    torch::manual_seed(1);
    auto t = std::make_shared<trainer>(threads, depth, tokens, d, ff, learning_rate, beta1, beta2, epsilon, weight_decay);
    // untimed steps: the first allocates the optimizer's moments, and the heap settles after a few
    settle([&] { t->step(); });
    return [t] { return t->step(); };
}
