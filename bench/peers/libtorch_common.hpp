// What the LibTorch peers share (peers/libtorch.cpp, the norms; peers/libtorch_train.cpp, the
// training step): ATen's thread count for the duration of a benchmark, glibc's heap set up so
// that the blocks LibTorch allocates and frees are reused with their pages resident, and the
// untimed calls that let the heap settle before a benchmark is timed.
//
// Included only by the peers' own files, compiled with LibTorch's headers and flags.
#pragma once

#include <ATen/Parallel.h>

#include <malloc.h>
#include <omp.h>

#include <climits>

#include "../workload.hpp"

namespace libtorch_peer {

// ATen's (and OpenMP's) thread count while the guard lives. The previous count is OpenMP's,
// read before any ATen call: ATen's first get_num_threads (or first parallel op) on a thread
// sets OpenMP's count to its own default, the physical cores as cpuinfo counts them (1 on a
// 2-vCPU virtual machine), which the other benchmarks in the binary must not inherit.
// at::set_num_threads sets both ATen's count and omp_set_num_threads.
class torch_threads {
public:
    explicit torch_threads(int threads) : previous_(omp_get_max_threads()) { at::set_num_threads(threads); }
    ~torch_threads() { at::set_num_threads(previous_); }
    torch_threads(const torch_threads&) = delete;
    torch_threads& operator=(const torch_threads&) = delete;

private:
    int previous_;
};

// glibc: every block from the heap (no mmap), the heap never trimmed, while the guard lives.
// Restores glibc's documented defaults (128 KiB thresholds, 65536 mmaps) afterwards.
class heap_blocks {
public:
    heap_blocks() {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }
    ~heap_blocks() {
        mallopt(M_MMAP_MAX, 65536);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
    heap_blocks(const heap_blocks&) = delete;
    heap_blocks& operator=(const heap_blocks&) = delete;
};

// Untimed calls until one takes no page fault (at most 8): with the heap in the state an
// earlier benchmark left it, the first calls may place a fresh block where a small allocation
// has split the one just freed; after that every call recycles the same blocks.
template <class Call>
void settle(Call&& call) {
    for (int i = 0; i < 8; ++i) {
        const long before = bench::minor_faults();
        call();
        if (bench::minor_faults() == before) return;
    }
}

}  // namespace libtorch_peer
