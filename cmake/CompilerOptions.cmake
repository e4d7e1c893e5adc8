# Warnings, optimisation and sanitizer flags shared by every target (through gcbench_options).
add_library(gcbench_options INTERFACE)

target_compile_options(gcbench_options INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
  -Wno-unused-parameter)
if(GCBENCH_WERROR)
  target_compile_options(gcbench_options INTERFACE -Werror)
endif()

# Release code is built for the machine family, not the build host: the hand-vectorized
# kernels carry their own target attributes and are chosen at run time.
target_compile_options(gcbench_options INTERFACE $<$<CONFIG:Release,RelWithDebInfo>:-O3>)
target_compile_options(gcbench_options INTERFACE $<$<CONFIG:RelWithDebInfo>:-fno-omit-frame-pointer>)

if(GCBENCH_SANITIZE)
  target_compile_options(gcbench_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(gcbench_options INTERFACE -fsanitize=address,undefined)
endif()

target_include_directories(gcbench_options INTERFACE "${PROJECT_SOURCE_DIR}")

# Fuzzing (tests/fuzz): libFuzzer comes with clang. Every target gets libFuzzer's coverage
# instrumentation and ASan+UBSan, so the harnesses steer by the library's branches, not only
# their own; the harnesses add -fsanitize=fuzzer (libFuzzer's main) themselves.
option(GCBENCH_FUZZ "Build the libFuzzer harnesses in tests/fuzz (clang only)" OFF)
if(GCBENCH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GCBENCH_FUZZ needs clang (libFuzzer), not ${CMAKE_C_COMPILER_ID}: "
                        "use the 'fuzz' preset or -DCMAKE_C_COMPILER=clang")
  endif()
  target_compile_options(gcbench_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -Wno-pass-failed)  # instrumented `omp simd` loops do not vectorize; clang warns, it is expected
  target_link_options(gcbench_options INTERFACE -fsanitize=address,undefined)
endif()
