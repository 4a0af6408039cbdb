// The threads a kernel runs on unless told otherwise.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#endif

namespace etna::cpu {

// OpenMP's default: OMP_NUM_THREADS, or the machine's cores.
inline int default_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

}  // namespace etna::cpu
