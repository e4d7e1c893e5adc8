# SIMD kernel tests (included from tests/CMakeLists.txt).

# Every ISA against the scalar reference, and the dispatch. The checks live in simd_check.c,
# plain C shared with the NEON program below.
add_executable(test_simd test_simd.c simd_check.c)
target_link_libraries(test_simd PRIVATE gcbench_core PkgConfig::CRITERION)
add_test(NAME test_simd COMMAND test_simd --jobs 1)
set_tests_properties(test_simd PROPERTIES TIMEOUT 120)

# The bf16 conversions: every ISA bit for bit against the reference (bf16_check.c, shared
# with the NEON program).
add_executable(test_simd_bf16 test_simd_bf16.c bf16_check.c)
target_link_libraries(test_simd_bf16 PRIVATE gcbench_core PkgConfig::CRITERION)
add_test(NAME test_simd_bf16 COMMAND test_simd_bf16 --jobs 1)
set_tests_properties(test_simd_bf16 PROPERTIES TIMEOUT 120)

# gcbench's conversion against oneDNN's bf16 reorder and vcvtneps2bf16 (test_bf16_onednn.c),
# once as oneDNN runs here and once with its ISA capped below AVX512-BF16 (its emulation).
add_executable(test_bf16_onednn test_bf16_onednn.c)
target_link_libraries(test_bf16_onednn PRIVATE gcbench_core PkgConfig::CRITERION)
add_test(NAME test_bf16_onednn COMMAND test_bf16_onednn --jobs 1)
add_test(NAME test_bf16_onednn_capped COMMAND test_bf16_onednn --jobs 1)
set_tests_properties(test_bf16_onednn test_bf16_onednn_capped PROPERTIES TIMEOUT 60)
set_tests_properties(test_bf16_onednn_capped PROPERTIES ENVIRONMENT ONEDNN_MAX_CPU_ISA=AVX512_CORE)

# gcbench itself: GCBENCH_SIMD picks the kernels it reports, and an unknown ISA is an error;
# each checks the exit status as well as the output (tests/expect_run.cmake).
set(gcbench_tiny_run --no-gc --epochs 1 --train-images 4 --val-images 2 --batch 2 --image-size 94)
add_test(NAME simd_gcbench_env_override
         COMMAND ${CMAKE_COMMAND} -DEXPECT_STATUS=0 "-DEXPECT_OUTPUT=kernels scalar"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_run.cmake $<TARGET_FILE:gcbench> ${gcbench_tiny_run})
set_tests_properties(simd_gcbench_env_override PROPERTIES ENVIRONMENT GCBENCH_SIMD=scalar TIMEOUT 60)
add_test(NAME simd_gcbench_env_unknown
         COMMAND ${CMAKE_COMMAND} -DEXPECT_STATUS=2 "-DEXPECT_OUTPUT=gcbench: error: GCBENCH_SIMD=sse9: unknown ISA"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_run.cmake $<TARGET_FILE:gcbench> ${gcbench_tiny_run})
set_tests_properties(simd_gcbench_env_unknown PROPERTIES ENVIRONMENT GCBENCH_SIMD=sse9 TIMEOUT 30)

# NEON on an x86 host: cross-build simd/ and the checks for aarch64 with the Debian cross
# compiler (gcc-aarch64-linux-gnu), statically so qemu-aarch64 (qemu-user) needs no sysroot,
# and run them under qemu. Not Criterion: there is no arm64 libcriterion to link.
option(GCBENCH_NEON_QEMU_TESTS "Test the NEON kernels under qemu-aarch64 on non-ARM hosts" ON)
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" gcbench_host_cpu)
if(GCBENCH_NEON_QEMU_TESTS AND NOT gcbench_host_cpu MATCHES "^(aarch64|arm64)$")
  find_program(GCBENCH_AARCH64_CC NAMES aarch64-linux-gnu-gcc)
  find_program(GCBENCH_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
  # -static needs the cross libc.a (libc6-dev-arm64-cross, only a Recommends of the compiler).
  set(gcbench_neon_links OFF)
  if(GCBENCH_AARCH64_CC AND GCBENCH_QEMU_AARCH64)
    set(probe ${CMAKE_CURRENT_BINARY_DIR}/neon_link_probe)
    file(WRITE ${probe}.c "int main(void) { return 0; }\n")
    execute_process(COMMAND ${GCBENCH_AARCH64_CC} -static ${probe}.c -o ${probe}
                    RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
    if(probe_rc EQUAL 0)
      set(gcbench_neon_links ON)
    endif()
  endif()
  if(gcbench_neon_links)
    set(neon_sources
      ${PROJECT_SOURCE_DIR}/simd/simd_kernels_scalar.c
      ${PROJECT_SOURCE_DIR}/simd/simd_kernels_neon.c
      ${PROJECT_SOURCE_DIR}/simd/simd_isa.c
      ${PROJECT_SOURCE_DIR}/simd/simd_dispatch.c
      ${PROJECT_SOURCE_DIR}/engine/base/error.c
      ${CMAKE_CURRENT_SOURCE_DIR}/simd_check.c
      ${CMAKE_CURRENT_SOURCE_DIR}/bf16_check.c
      ${CMAKE_CURRENT_SOURCE_DIR}/simd_neon_main.c)
    file(GLOB neon_headers ${PROJECT_SOURCE_DIR}/simd/*.h ${PROJECT_SOURCE_DIR}/engine/base/error.h
         ${CMAKE_CURRENT_SOURCE_DIR}/simd_check.h ${CMAKE_CURRENT_SOURCE_DIR}/bf16_check.h)
    set(neon_werror)
    if(GCBENCH_WERROR)
      set(neon_werror -Werror)
    endif()
    set(neon_check ${CMAKE_CURRENT_BINARY_DIR}/simd_neon_check.aarch64)
    add_custom_command(
      OUTPUT ${neon_check}
      COMMAND ${GCBENCH_AARCH64_CC} -std=gnu11 -O2 -g -static -ffp-contract=off
              -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
              -Wno-unused-parameter ${neon_werror}
              -DGCBENCH_SIMD_HAVE_NEON -I${PROJECT_SOURCE_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}
              ${neon_sources} -lm -o ${neon_check}
      DEPENDS ${neon_sources} ${neon_headers}
      COMMENT "Cross-building the NEON kernel checks for aarch64"
      VERBATIM)
    add_custom_target(simd_neon_check ALL DEPENDS ${neon_check})
    add_test(NAME simd_neon_vs_scalar COMMAND ${GCBENCH_QEMU_AARCH64} ${neon_check} kernels)
    add_test(NAME simd_neon_dispatch COMMAND ${GCBENCH_QEMU_AARCH64} ${neon_check} dispatch)
    add_test(NAME simd_neon_bf16 COMMAND ${GCBENCH_QEMU_AARCH64} ${neon_check} bf16)
    set_tests_properties(simd_neon_bf16 PROPERTIES TIMEOUT 180)
    set_tests_properties(simd_neon_vs_scalar PROPERTIES TIMEOUT 180)
    set_tests_properties(simd_neon_dispatch PROPERTIES TIMEOUT 30)
  else()
    message(STATUS "gcbench: NEON tests under qemu skipped: needs aarch64-linux-gnu-gcc able to "
                   "link statically (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross) and "
                   "qemu-aarch64 (Debian: qemu-user)")
  endif()
endif()

# bench_kernels runs, exits 0 and keeps its JSON Lines contract (one quick sample per measurement).
add_test(NAME simd_bench_kernels_json
         COMMAND ${CMAKE_COMMAND} -DEXPECT_STATUS=0
                 "-DEXPECT_OUTPUT={\"kernel\":\"gc_rmsprop\",\"isa\":\"[a-z0-9]+\",\"elements\":432,\"gbps\":[0-9.]+,.*\n{\"kernel\":\"triad\",\"isa\":null,\"elements\":[0-9]+,\"gbps\":[0-9.]+,"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_run.cmake
                 $<TARGET_FILE:bench_kernels> --json --reps 1 --min-ms 0.05 --tensor conv2d)
set_tests_properties(simd_bench_kernels_json PROPERTIES TIMEOUT 60)

# bench_kernels --optimizers runs and keeps its JSON Lines contract.
add_test(NAME simd_bench_kernels_optimizers_json
         COMMAND ${CMAKE_COMMAND} -DEXPECT_STATUS=0
                 "-DEXPECT_OUTPUT={\"kernel\":\"fused_update\",\"optimizer\":\"sgd\",\"gc\":\"none\",\"isa\":\"[a-z0-9]+\",\"elements\":432,\"gbps\":[0-9.]+,.*\"gc_time_overhead\":0.0000}\n{\"kernel\":\"fused_update\",\"optimizer\":\"sgd\",\"gc\":\"gradient\""
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_run.cmake
                 $<TARGET_FILE:bench_kernels> --optimizers --json --reps 1 --min-ms 0.05 --tensor conv2d)
set_tests_properties(simd_bench_kernels_optimizers_json PROPERTIES TIMEOUT 60)
