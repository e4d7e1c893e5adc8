#!/bin/sh
# Builds and runs the whole test suite twice: the release build, then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer. Warnings are errors in both (CMakePresets.json).
# Run from anywhere: sh cmake/test.sh
set -eu
cd "$(dirname "$0")/.."
sh cmake/install-deps.sh
for preset in release asan; do
  echo "== $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
