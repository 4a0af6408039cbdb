# Compiles SOURCE with FLAGS ('|'-separated). EXPECT=fails: the compilation must fail and its diagnostics must
# match every `// expect: <regex>` line of SOURCE. EXPECT=compiles: with ETNA_TWIN defined, it
# must compile.
string(REPLACE "|" ";" FLAGS "${FLAGS}")
if(EXPECT STREQUAL "compiles")
    list(APPEND FLAGS -DETNA_TWIN)
endif()
execute_process(COMMAND "${COMPILER}" ${FLAGS} "${SOURCE}"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
string(SUBSTRING "${output}" 0 6000 excerpt)

if(EXPECT STREQUAL "compiles")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "the twin of ${SOURCE} must compile, but:\n${excerpt}")
    endif()
    return()
endif()

if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but must not")
endif()
file(STRINGS "${SOURCE}" expectations REGEX "^// expect: ")
if(NOT expectations)
    message(FATAL_ERROR "${SOURCE} has no `// expect:` line")
endif()
foreach(line IN LISTS expectations)
    string(REGEX REPLACE "^// expect: " "" pattern "${line}")
    if(NOT output MATCHES "${pattern}")
        message(FATAL_ERROR "${SOURCE} failed to compile, but without a diagnostic matching\n  ${pattern}\n${excerpt}")
    endif()
    message(STATUS "found: ${pattern}")
endforeach()
