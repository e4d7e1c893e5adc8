# Kernel micro-benchmarks: bench_kernels sits at the top of the build folder, like gcbench.
add_executable(bench_kernels bench_kernels.c)
target_link_libraries(bench_kernels PRIVATE gcbench_core)
set_target_properties(bench_kernels PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}")
