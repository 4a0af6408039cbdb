// vector_math: the float exp, log and tanh of a tile loop as calls to glibc's vector math
// library (libmvec), and float erf as inline arithmetic, so that a loop over features calling
// them vectorizes like the rest.
#pragma once

#include <cmath>

#include <etna/expr/primitives.hpp>

// `#pragma omp declare simd` tells GCC that libmvec has a vector variant of a function
// (_ZGVeN16v_expf: 16 lanes of AVX-512, _ZGVbN4v_expf: 4 of SSE, ...): a loop that GCC vectorizes
// then calls the variant, 4 to 16 elements per call, instead of the scalar function per element.
// glibc 2.35 has them on x86_64 and links libmvec with libm. They are declared under etna's
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
#endif

// Float erf as a rational function, x P(x^2) / Q(x^2) on [-4, 4] (Eigen's and XLA's
// coefficients; erf is +-1 in float beyond): a dozen multiply-adds and a division that vectorize
// in the loop itself, where glibc's vector erff computes in double. Within 8 ulps of erf; a NaN
// passes the clamp (NaN > 4 is false) and keeps its sign through copysign.
template <>
struct float_form<prim::erf> {
    static float apply(float a) {
        const float magnitude = std::fabs(a);
        const float x = std::copysign(magnitude > 4.0f ? 4.0f : magnitude, a);
        const float x2 = x * x;
        float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
        p = x2 * p - 2.10102402082508e-06f;
        p = x2 * p - 5.69250639462346e-05f;
        p = x2 * p - 7.34990630326855e-04f;
        p = x2 * p - 2.95459980854025e-03f;
        p = x2 * p - 1.60960333262415e-02f;
        float q = x2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
        q = x2 * q - 1.68282697438203e-03f;
        q = x2 * q - 7.37332916720468e-03f;
        q = x2 * q - 1.42647390514189e-02f;
        return x * (p / q);
    }
};

}  // namespace etna::cpu
