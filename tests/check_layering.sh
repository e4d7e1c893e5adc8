#!/bin/sh
# The layering written in README.md ("Layout of the code", the ```layering block) against
# every #include of the sources: a header of another room is allowed only when the table lists
# that room for the including file's room. A source file in no room fails too, so a new folder
# gets its place in the table before it gets code.
#
#   sh tests/check_layering.sh [REPO_ROOT]        exit 0 when every include keeps to the table
set -eu
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"

table=$(awk '/^```layering/ { on = 1; next } on && /^```/ { exit } on && NR > 0 { print }' README.md |
        sed 1d)
[ -n "$table" ] || { echo "layering: README.md has no \`\`\`layering table"; exit 1; }
rooms=$(echo "$table" | awk '{ print $1 }')

# The room of a path: the longest room that is a prefix of it ("" when none).
room_of() {
  best=
  for r in $rooms; do
    case "$1" in "$r"/*) [ ${#r} -gt ${#best} ] && best=$r ;; esac
  done
  echo "$best"
}
allowed() { # ROOM TARGET
  echo "$table" | awk -v r="$1" -v t="$2" '$1 == r { for (i = 2; i <= NF; i++) if ($i == t) ok = 1 } END { exit !ok }'
}

checked=0 bad=0
for f in $(find engine io simd benchmarks -name '*.[ch]' | sort); do
  from=$(room_of "$f")
  if [ -z "$from" ]; then
    echo "layering: $f is in no room of README.md's table"
    bad=$((bad + 1))
    continue
  fi
  for inc in $(sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f"); do
    checked=$((checked + 1))
    to=$(room_of "$inc")
    [ -z "$to" ] && continue # a header beside the file ("options.h"), or generated
    [ "$to" = "$from" ] && continue
    if ! allowed "$from" "$to"; then
      echo "layering: $f includes $inc: $from may not include $to (README.md, Layout of the code)"
      bad=$((bad + 1))
    fi
  done
done
echo "layering: $checked includes checked, $bad against the table"
[ "$bad" -eq 0 ]
