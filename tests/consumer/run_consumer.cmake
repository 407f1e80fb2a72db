# Builds and runs tests/consumer/project against infercost, either installed (find_package) or
# as a subdirectory. Invoked by ctest with -DSOURCE_DIR -DBINARY_DIR -DWORK_DIR -DMODE
# -DGENERATOR -DCXX, and -DCXX_FLAGS -DLINKER_FLAGS: the library's own compiler and linker flags,
# so that a sanitized install (whose compiled library needs the sanitizer runtimes) links.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer/project" -B "${WORK_DIR}/build"
      -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}" -DCMAKE_PREFIX_PATH=${prefix}
      -DCONSUMER_MODE=find_package)
else()
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer/project" -B "${WORK_DIR}/build"
      -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}" -DCONSUMER_MODE=add_subdirectory
      -DINFERCOST_SOURCE=${SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
if(EXISTS "${WORK_DIR}/build/consumer_compiled")
  run("${WORK_DIR}/build/consumer_compiled")
endif()
