# Compiles SOURCE with FLAGS ('|'-separated). EXPECT=fails: the compilation must fail and its diagnostics must
# match every `// expect: <regex>` line of SOURCE; a line `// errors: N` requires exactly N errors (so
# that `// errors: 1` holds a diagnostic to being the first and only one). EXPECT=compiles: with ETNA_TWIN defined, it
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

file(STRINGS "${SOURCE}" error_counts REGEX "^// errors: [0-9]+$")
if(error_counts)
    string(REGEX REPLACE "^// errors: " "" expected_errors "${error_counts}")
    string(REGEX MATCHALL "[0-9]: error: " errors "${output}")
    list(LENGTH errors error_count)
    if(NOT error_count EQUAL expected_errors)
        message(FATAL_ERROR "${SOURCE} failed with ${error_count} errors, not ${expected_errors}:\n${excerpt}")
    endif()
    message(STATUS "errors: ${error_count}")
endif()
