# scripts/demo --help prints the demo's usage without building it: run with a PATH that holds
# only sh, dirname and cat (no cmake, no package tools), it must print exactly what the built
# program prints for --help. Run: cmake -DPROGRAM=<04-pre-norm-vs-post-norm> -DSCRIPT=<scripts/demo> -P demo_help.cmake
get_filename_component(work "${PROGRAM}" DIRECTORY)
set(tools "${work}/demo_help_tools")
file(REMOVE_RECURSE "${tools}")
file(MAKE_DIRECTORY "${tools}")
foreach(tool sh dirname cat)
    find_program(found_${tool} ${tool} REQUIRED)
    file(CREATE_LINK "${found_${tool}}" "${tools}/${tool}" SYMBOLIC)
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E env "PATH=${tools}" sh "${SCRIPT}" --help
    RESULT_VARIABLE script_result OUTPUT_VARIABLE script_output ERROR_VARIABLE script_error)
execute_process(COMMAND "${PROGRAM}" --help RESULT_VARIABLE program_result OUTPUT_VARIABLE program_output)
if(NOT script_result EQUAL 0)
    message(FATAL_ERROR "scripts/demo --help failed (${script_result}) with only sh, dirname and cat on PATH:\n${script_output}${script_error}")
endif()
if(NOT program_result EQUAL 0 OR NOT script_output STREQUAL program_output)
    message(FATAL_ERROR "scripts/demo --help printed\n${script_output}\nbut the program prints\n${program_output}")
endif()
message(STATUS "scripts/demo --help prints the program's usage, building nothing")
