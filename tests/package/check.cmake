# Installs etna from ETNA_SOURCE_DIR into WORK_DIR/prefix, then builds and runs the consumer
# project beside this script against the installed package only.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "failed: ${command}\n${output}")
    endif()
endfunction()

run("${CMAKE_COMMAND}" -S "${ETNA_SOURCE_DIR}" -B "${WORK_DIR}/etna" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${COMPILER}" "-DCMAKE_INSTALL_PREFIX=${prefix}"
    -DETNA_BUILD_TESTS=OFF -DETNA_BUILD_EXAMPLES=OFF -DETNA_BUILD_BENCH=OFF)
run("${CMAKE_COMMAND}" --install "${WORK_DIR}/etna")
if(NOT EXISTS "${prefix}/include/etna/etna.hpp")
    message(FATAL_ERROR "the install did not place include/etna/etna.hpp under ${prefix}")
endif()

get_filename_component(consumer "${CMAKE_CURRENT_LIST_DIR}/consumer" ABSOLUTE)
run("${CMAKE_COMMAND}" -S "${consumer}" -B "${WORK_DIR}/consumer" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${COMPILER}" "-DCMAKE_PREFIX_PATH=${prefix}")
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
execute_process(COMMAND "${WORK_DIR}/consumer/consumer" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message(STATUS "consumer printed:\n${output}")
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the consumer failed")
endif()
