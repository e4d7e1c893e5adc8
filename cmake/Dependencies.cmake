# Every external package, found once. cmake/install-deps.sh installs them on Debian 12.
find_package(OpenMP REQUIRED COMPONENTS C)
find_package(Threads REQUIRED)                  # the batch prefetch thread
find_package(DNNL 2.6 MODULE REQUIRED)          # oneDNN: libdnnl-dev, cmake/FindDNNL.cmake
find_package(PkgConfig REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)   # libhwloc-dev
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)    # libpng-dev
if(GCBENCH_TESTS)
  pkg_check_modules(CRITERION REQUIRED IMPORTED_TARGET criterion)  # libcriterion-dev
endif()
find_library(MATH_LIBRARY m REQUIRED)
if(GCBENCH_MPI)
  find_package(MPI REQUIRED COMPONENTS C)       # libopenmpi-dev, openmpi-bin
endif()
