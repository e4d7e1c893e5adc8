# SIMD kernel tests (see tests/CMakeLists.txt).
