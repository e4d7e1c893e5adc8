#!/bin/sh
# Runs the README's two quick-start commands, exactly as written there, on a brand-new Debian 12
# (a minimal debootstrap root, entered with chroot), from a clean clone of the current commit.
# A package the project forgets to install fails here, whatever this machine has installed.
#
#   sh cmake/fresh-machine.sh          (as root, from anywhere in the repository)
#
# Environment:
#   GCBENCH_EPOCHS       epochs of the first command's gcbench run (default 1 here; the README
#                        documents the variable)
#   GCBENCH_FRESH_CACHE  folder of the cached bare root and of the downloaded packages
#                        (default /var/cache/gcbench-fresh); delete it to bootstrap anew
#   GCBENCH_MIRROR       Debian mirror (default: the one this machine's apt uses for bookworm)
#   GCBENCH_FRESH_KEEP=1 keep the root afterwards (its path is printed)
#
# The bare root is bootstrapped once and kept as a tarball; every run unpacks a pristine copy
# of it. Downloaded .deb files are kept between runs (they only save downloading: what gets
# installed is decided by the project's commands). /proc, /sys and /dev are mounted into the
# root (hwloc reads the topology from /sys), with a tmpfs on /dev/shm for the MPI tests, and
# everything is unmounted on every exit path before the root is deleted.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${GCBENCH_FRESH_CACHE:-/var/cache/gcbench-fresh}
suite=bookworm
epochs=${GCBENCH_EPOCHS:-1}
root=
started=$(date +%s)

say() { echo "fresh-machine: $*"; }
fail() { echo "fresh-machine: error: $*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - $1 )); }

[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap, mount and chroot need it"
command -v git >/dev/null 2>&1 || fail "git is needed to clone the commit under test"
sha=$(git -C "$repo" rev-parse HEAD) || fail "$repo is not a git checkout"

# --- The Debian mirror this machine's apt already uses for the suite --------------------------
mirror_from_apt() {
  # one-line sources: "deb [opts] URI SUITE COMPONENTS"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -e 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }'
  done
  # deb822 sources: a stanza with "Suites: ... SUITE ..." and "URIs: URI"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '
      /^[ \t]*$/ { if (hit && uri) { print uri; exit } hit = 0; uri = ""; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
      END { if (hit && uri) print uri }' "$f"
  done
}
mirror=${GCBENCH_MIRROR:-$(mirror_from_apt | head -n 1)}
[ -n "$mirror" ] || fail "no Debian mirror for '$suite' in this machine's apt sources; set GCBENCH_MIRROR"

# --- Teardown: unmount everything under the root, then delete it ------------------------------
mounts_under() {
  # mount points below $1, deepest first (mountinfo field 5; octal escapes left as they are)
  awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
teardown() {
  [ -n "$root" ] && [ -d "$root" ] || return 0
  # processes still running inside the root (this script was interrupted) hold its mounts
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
  done
  sleep 1
  for m in $(mounts_under "$root"); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ -n "$(mounts_under "$root")" ]; then
    echo "fresh-machine: error: still mounted under $root, not deleting it:" >&2
    mounts_under "$root" >&2
    return 1
  fi
  if [ "${GCBENCH_FRESH_KEEP:-0}" = 1 ]; then
    say "kept the root at $root"
  else
    rm -rf --one-file-system "$root"
  fi
}
trap 'rc=$?; trap - EXIT INT TERM; teardown || rc=1; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The bare root, bootstrapped once ---------------------------------------------------------
arch=$(dpkg --print-architecture)
base="$cache/$suite-minbase-$arch.tar"
mkdir -p "$cache/archives/partial"
if [ ! -s "$base" ]; then
  t=$(date +%s)
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap on this machine"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
      fail "could not install debootstrap"
  fi
  say "bootstrapping a minimal Debian $suite ($arch) from $mirror"
  stage=$(mktemp -d /var/tmp/gcbench-bootstrap.XXXXXX)
  if ! debootstrap --variant=minbase --arch="$arch" "$suite" "$stage" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -n 30 "$cache/debootstrap.log"
    rm -rf --one-file-system "$stage"
    fail "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  tar -C "$stage" --one-file-system -cf "$base.part" . && mv "$base.part" "$base"
  rm -rf --one-file-system "$stage"
  say "bootstrap: $(elapsed "$t") s (cached as $base)"
fi

t=$(date +%s)
root=$(mktemp -d /var/tmp/gcbench-fresh.XXXXXX)
chmod 755 "$root" # mktemp makes it 0700: apt's unprivileged downloader must enter it
tar -C "$root" -xf "$base"
say "pristine root: $(elapsed "$t") s ($root)"

# The root's apt reaches the mirror as this machine's does: name resolution, and the host's
# Acquire settings (proxies, snapshot mirrors whose Release files are past Valid-Until).
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
apt-config dump 2>/dev/null |
  grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' \
  >"$root/etc/apt/apt.conf.d/90gcbench-host-acquire" || true

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"

# --- A clean clone of the commit ---------------------------------------------------------------
t=$(date +%s)
git clone --quiet --no-hardlinks "$repo" "$root/root/gcbench"
git -C "$root/root/gcbench" checkout --quiet "$sha"
say "clone of $sha: $(elapsed "$t") s"

# --- The README's two commands, as written there ----------------------------------------------
# The first two ```sh blocks of the Quick start section.
readme_block() {
  awk -v want="$1" '
    /^## / { in_qs = ($0 ~ /^## Quick start/) }
    in_qs && /^```sh/ { n++; grab = (n == want); next }
    grab && /^```/ { exit }
    grab { print }' "$root/root/gcbench/README.md"
}
cmd1=$(readme_block 1)
cmd2=$(readme_block 2)
[ -n "$cmd1" ] && [ -n "$cmd2" ] || fail "README.md has no Quick start with two sh blocks"

# Runs one command inside the root with a clean environment; keeps its output in a log and
# prints the log's end when it fails.
in_root() { # NAME COMMAND [VAR=VALUE ...]
  name=$1 command=$2
  shift 2
  t=$(date +%s)
  log="$root/root/$name.log"
  say "$name: $command"
  if env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
       LANG=C.UTF-8 TERM=dumb ${http_proxy:+http_proxy=$http_proxy} \
       ${https_proxy:+https_proxy=$https_proxy} ${no_proxy:+no_proxy=$no_proxy} "$@" \
       chroot "$root" /bin/sh -c "cd /root/gcbench && $command" >"$log" 2>&1; then
    say "$name: ok, $(elapsed "$t") s"
    timings="$timings
  $(printf '%5s s' "$(elapsed "$t")")  $command"
  else
    rc=$?
    echo "fresh-machine: $name failed (exit $rc) after $(elapsed "$t") s; its last lines:"
    tail -n 60 "$log"
    fail "$name failed: $command"
  fi
}

# The first command's && steps run one by one, to time each (install, configure, build, run).
timings=
i=0
rest=$cmd1
while [ -n "$rest" ]; do
  i=$((i + 1))
  case "$rest" in
    *" && "*) step=${rest%% && *}; rest=${rest#* && } ;;
    *) step=$rest; rest= ;;
  esac
  in_root "command1.$i" "$step" GCBENCH_EPOCHS="$epochs"
done
echo "---- the end of gcbench's output ----"
tail -n 12 "$root/root/command1.$i.log"
in_root command2 "$cmd2"

say "the README's two commands pass on a fresh Debian $suite, $(elapsed "$started") s in all; inside the root:$timings"
echo "---- the test command's output ----"
cat "$root/root/command2.log"
