# FindDNNL: oneDNN (Debian's libdnnl-dev) from its header and library alone.
#
# Debian's oneDNN is built with an OpenCL GPU runtime, and its CMake package config calls
# find_package(OpenCL), which needs the OpenCL headers and ICD loader development files
# (only recommended by libdnnl-dev). gcbench is a CPU program that never includes dnnl_ocl.h,
# so it finds oneDNN here instead: no OpenCL development files are needed to build it.
#
# Defines DNNL_FOUND, DNNL_VERSION, DNNL_INCLUDE_DIR, DNNL_LIBRARY and the imported target
# DNNL::dnnl. Honours find_package(DNNL <version>) and DNNL_ROOT.
find_path(DNNL_INCLUDE_DIR NAMES oneapi/dnnl/dnnl.h)
find_library(DNNL_LIBRARY NAMES dnnl)

if(DNNL_INCLUDE_DIR AND EXISTS "${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h")
  file(STRINGS "${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h" dnnl_version_lines
       REGEX "^#define DNNL_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
  foreach(part MAJOR MINOR PATCH)
    string(REGEX REPLACE ".*#define DNNL_VERSION_${part} +([0-9]+).*" "\\1"
           DNNL_VERSION_${part} "${dnnl_version_lines}")
  endforeach()
  set(DNNL_VERSION "${DNNL_VERSION_MAJOR}.${DNNL_VERSION_MINOR}.${DNNL_VERSION_PATCH}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DNNL
  REQUIRED_VARS DNNL_LIBRARY DNNL_INCLUDE_DIR
  VERSION_VAR DNNL_VERSION
  REASON_FAILURE_MESSAGE "on Debian 12: apt-get install libdnnl-dev (or sh cmake/install-deps.sh)")

# gcbench's own parallel regions and oneDNN must share one OpenMP runtime (libgomp).
if(DNNL_FOUND AND EXISTS "${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_config.h")
  file(STRINGS "${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_config.h" dnnl_cpu_runtime
       REGEX "^#define DNNL_CPU_RUNTIME ")
  if(NOT dnnl_cpu_runtime MATCHES "DNNL_RUNTIME_OMP")
    message(FATAL_ERROR "oneDNN at ${DNNL_LIBRARY} is not built on OpenMP (${dnnl_cpu_runtime}); "
                        "gcbench shares one OpenMP thread pool with it")
  endif()
endif()

if(DNNL_FOUND AND NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES
    IMPORTED_LOCATION "${DNNL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${DNNL_INCLUDE_DIR}")
endif()
mark_as_advanced(DNNL_INCLUDE_DIR DNNL_LIBRARY)
