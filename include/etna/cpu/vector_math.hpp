// vector_math: the float exp, log, tanh and erf of a tile loop as calls to glibc's vector math
// library (libmvec), so that a loop over features calling them vectorizes like the arithmetic.
#pragma once

#include <cmath>

// `#pragma omp declare simd` tells GCC that libmvec has a vector variant of the function
// (_ZGVeN16v_erff: 16 lanes of AVX-512, _ZGVbN4v_erff: 4 of SSE, ...): a loop that GCC vectorizes
// then calls the variant, 4 to 16 elements per call, instead of the scalar function per element. glibc 2.35
// has every one of these on x86_64 and links libmvec with libm. The variants are within 4 ulps
// (the scalar functions within 1 or 2): the error bounds of tests/random_graphs allow for it.
// Only float: a double kernel keeps the scalar functions, whose results it is checked against.
#if defined(__GLIBC__) && defined(__x86_64__) && defined(_OPENMP) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
extern "C" {
#pragma omp declare simd notinbranch
float expf(float) noexcept;
#pragma omp declare simd notinbranch
float logf(float) noexcept;
#pragma omp declare simd notinbranch
float tanhf(float) noexcept;
#pragma omp declare simd notinbranch
float erff(float) noexcept;
}
#endif
