// vector_math: the float exp, log, tanh and erf of a tile loop as calls to glibc's vector math
// library (libmvec), so that a loop over features calling them vectorizes like the arithmetic.
#pragma once

#include <etna/expr/primitives.hpp>

// `#pragma omp declare simd` tells GCC that libmvec has a vector variant of a function
// (_ZGVeN16v_expf: 16 lanes of AVX-512, _ZGVbN4v_expf: 4 of SSE, ...): a loop that GCC vectorizes
// then calls the variant, 4 to 16 elements per call, instead of the scalar function per element.
// glibc 2.35 has all four on x86_64 and links libmvec with libm. They are declared under etna's
// own names bound to glibc's symbols (asm labels), as functions without side effects: GCC never
// vectorizes a call to its builtin expf or logf, which may set errno (a write to memory, to GCC),
// and the standard names keep their usual meaning in the user's own loops. The variants are
// within 4 ulps (the scalar functions within 1 or 2): the error bounds of tests/random_graphs
// allow for it. Only float: a double kernel keeps the scalar functions of <cmath>.
#if defined(__GLIBC__) && defined(__x86_64__) && defined(_OPENMP) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define ETNA_LIBMVEC 1
extern "C" {
#pragma omp declare simd notinbranch
__attribute__((const)) float etna_libmvec_expf(float) noexcept __asm__("expf");
#pragma omp declare simd notinbranch
__attribute__((const)) float etna_libmvec_logf(float) noexcept __asm__("logf");
#pragma omp declare simd notinbranch
__attribute__((const)) float etna_libmvec_tanhf(float) noexcept __asm__("tanhf");
#pragma omp declare simd notinbranch
__attribute__((const)) float etna_libmvec_erff(float) noexcept __asm__("erff");
}
#endif

namespace etna::cpu {

// How a float tile loop computes primitive Op: its own definition, or glibc's vectorizable function.
template <class Op>
struct float_form {
    template <class... Operands>
    static float apply(Operands... operands) {
        return Op::template apply<float>(operands...);
    }
};

#ifdef ETNA_LIBMVEC
template <float (*Function)(float) noexcept>
struct glibc_form {
    static float apply(float a) { return Function(a); }
};
template <>
struct float_form<prim::exp> : glibc_form<etna_libmvec_expf> {};
template <>
struct float_form<prim::log> : glibc_form<etna_libmvec_logf> {};
template <>
struct float_form<prim::tanh> : glibc_form<etna_libmvec_tanhf> {};
template <>
struct float_form<prim::erf> : glibc_form<etna_libmvec_erff> {};
#endif

}  // namespace etna::cpu
