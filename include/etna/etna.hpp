// etna: expression templates for normalization and autodiff. Include this header for everything but
// training (etna/train/model.hpp: a stack of blocks, AdamW, checkpoints), which compiles kernels of its own.
#pragma once

#include <etna/detail/for_each.hpp>

#include <etna/expr/contraction.hpp>
#include <etna/expr/elementwise.hpp>
#include <etna/expr/extent.hpp>
#include <etna/expr/fixed_string.hpp>
#include <etna/expr/graph.hpp>
#include <etna/expr/kind.hpp>
#include <etna/expr/leaf.hpp>
#include <etna/expr/literal.hpp>
#include <etna/expr/mean.hpp>
#include <etna/expr/node.hpp>
#include <etna/expr/operators.hpp>
#include <etna/expr/primitives.hpp>
#include <etna/expr/reduction.hpp>

#include <etna/ops/activations.hpp>
#include <etna/ops/batch_norm.hpp>
#include <etna/ops/blocks.hpp>
#include <etna/ops/layer_norm.hpp>
#include <etna/ops/linear.hpp>
#include <etna/ops/loss.hpp>
#include <etna/ops/parameter_checks.hpp>
#include <etna/ops/rms_norm.hpp>
#include <etna/ops/softmax.hpp>
#include <etna/ops/standardize.hpp>

#include <etna/autodiff/check_gradient.hpp>
#include <etna/autodiff/grad.hpp>
#include <etna/autodiff/simplify.hpp>
#include <etna/autodiff/term.hpp>
#include <etna/autodiff/split.hpp>

#include <etna/runtime/binding.hpp>
#include <etna/runtime/error.hpp>
#include <etna/runtime/interpreter.hpp>
#include <etna/runtime/random.hpp>
#include <etna/runtime/sizes.hpp>
#include <etna/runtime/tensor.hpp>
#include <etna/runtime/view.hpp>

#include <etna/fuse/graph_table.hpp>
#include <etna/fuse/plan.hpp>
#include <etna/fuse/program.hpp>
#include <etna/fuse/recompute.hpp>
#include <etna/fuse/tiles.hpp>

#include <etna/cpu/compile.hpp>
#include <etna/cpu/into.hpp>
#include <etna/cpu/gemm.hpp>
#include <etna/cpu/kernel.hpp>
#include <etna/cpu/nest_runner.hpp>
#include <etna/cpu/threads.hpp>
#include <etna/cpu/tile_runner.hpp>
#include <etna/cpu/workspace.hpp>

#include <etna/pair/training_pair.hpp>

#include <etna/io/dot.hpp>
#include <etna/io/explain.hpp>
#include <etna/io/formula.hpp>
#include <etna/io/tensor_format.hpp>

#include <etna/store/checkpoint.hpp>
