#!/bin/sh
# Builds and runs the whole test suite three times: the release build, the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the MPI build (with its mpirun tests).
# Warnings are errors in all (CMakePresets.json).
# Run from anywhere: sh cmake/test.sh
set -eu
cd "$(dirname "$0")/.."
sh cmake/install-deps.sh
for preset in release asan mpi; do
  echo "== $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
