# Warnings for infercost's own tests, examples and benchmarks (never for the INTERFACE target).
function(infercost_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion
    -Wimplicit-fallthrough)
  if(INFERCOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
