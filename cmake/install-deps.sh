#!/bin/sh
# Installs what gcbench needs to build and test on Debian 12 (nothing when all is there), then
# checks that every tool and library the build uses really works, naming what does not.
# Run as root (or with sudo) from anywhere: sh cmake/install-deps.sh
set -eu

# build-essential: gcc, make, libc headers. oneDNN is found from its header and library
# (cmake/FindDNNL.cmake), so its OpenCL development files (a Recommends) are not needed.
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user run the NEON kernel tests.
packages="build-essential cmake ninja-build pkg-config libdnnl-dev libhwloc-dev libpng-dev
libcriterion-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libopenmpi-dev openmpi-bin"

say() { echo "install-deps: $*"; }

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  say "installing:$missing"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=sudo
    else
      say "error: run as root to install:$missing" >&2
      exit 1
    fi
  else
    SUDO=
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# What the build needs, checked by use rather than by package name: a package can be
# installed and still leave a tool or a library unusable.
problems=""
problem() { problems="$problems
  - $1"; }

for tool in cc cmake ninja pkg-config mpicc mpirun aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null 2>&1 || problem "command '$tool' is not on PATH"
done
if command -v cmake >/dev/null 2>&1; then
  # CMakePresets.json version 6 needs CMake 3.25.
  v=$(cmake --version | sed -n '1s/[^0-9]*\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
  set -- $v
  if [ "${1:-0}" -lt 3 ] || { [ "${1:-0}" -eq 3 ] && [ "${2:-0}" -lt 25 ]; }; then
    problem "cmake ${1:-?}.${2:-?} is older than 3.25 (CMakePresets.json version 6)"
  fi
fi
if command -v pkg-config >/dev/null 2>&1; then
  for module in hwloc libpng criterion; do
    pkg-config --exists "$module" || problem "pkg-config finds no module '$module'"
  done
fi

probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
# oneDNN and OpenMP: compile, link and run a program that asks oneDNN its version.
cat >"$probe_dir/dnnl.c" <<'EOF'
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
int main(void)
{
    const dnnl_version_t *v = dnnl_version();
    printf("%d.%d.%d %d\n", v->major, v->minor, v->patch, omp_get_max_threads() > 0);
    return !(v->major > 2 || (v->major == 2 && v->minor >= 6));
}
EOF
if command -v cc >/dev/null 2>&1; then
  if ! cc -fopenmp "$probe_dir/dnnl.c" -o "$probe_dir/dnnl" -ldnnl >"$probe_dir/log" 2>&1; then
    problem "a program using oneDNN (oneapi/dnnl/dnnl.h, -ldnnl) and OpenMP does not build: $(tail -n 3 "$probe_dir/log" | tr '\n' ' ')"
  elif ! out=$("$probe_dir/dnnl" 2>&1); then
    problem "oneDNN 2.6 or later is needed; the installed one reports: $out"
  fi
fi
# The NEON tests link statically for qemu: the cross libc.a must be there.
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  echo 'int main(void) { return 0; }' >"$probe_dir/neon.c"
  aarch64-linux-gnu-gcc -static "$probe_dir/neon.c" -o "$probe_dir/neon" >/dev/null 2>&1 ||
    problem "aarch64-linux-gnu-gcc cannot link a static program (libc6-dev-arm64-cross)"
fi

if [ -n "$problems" ]; then
  echo "install-deps: error: the build needs what is still missing:$problems" >&2
  exit 1
fi
say "all build and test dependencies present"
