# Compiles PROBE at -O3 with GCC's vectorization report (for the baseline x86-64 target, 16-byte
# vectors) and requires every loop of KERNEL marked `// [vectorized]` to be reported vectorized.
string(REPLACE "|" ";" FLAGS "${FLAGS}")
list(REMOVE_ITEM FLAGS -fsyntax-only)  # the shared flags are for the compile-fail tests
execute_process(COMMAND "${COMPILER}" ${FLAGS} -O3 -fopenmp -fopt-info-vec-optimized -c "${PROBE}" -o "${OBJECT}"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    string(SUBSTRING "${output}" 0 4000 excerpt)
    message(FATAL_ERROR "the probe did not compile:\n${excerpt}")
endif()

file(STRINGS "${KERNEL}" lines)
set(number 0)
set(marked 0)
foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "// \\[vectorized\\]")
        math(EXPR marked "${marked} + 1")
        if(NOT output MATCHES "nest_runner\\.hpp:${number}:[0-9]+: optimized: loop vectorized")
            message(FATAL_ERROR "the loop at cpu/nest_runner.hpp:${number} was not vectorized:\n  ${line}")
        endif()
        message(STATUS "vectorized: cpu/nest_runner.hpp:${number}")
    endif()
endforeach()
if(marked EQUAL 0)
    message(FATAL_ERROR "no loop of ${KERNEL} is marked // [vectorized]")
endif()
