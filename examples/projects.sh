#!/usr/bin/env bash
# projects.sh: one script, run as two projects on one engine, side by side.
#
#   examples/projects.sh [PROJECT-A] [PROJECT-B] [PORT-A] [PORT-B]
#                                          (default: staging review 8091 8092)
#
# Brings up examples/stack.lua as both projects (web on the two ports), shows them
# with `heph ps --all`, shows that each api reaches its own db by the same name and cannot
# resolve the other project's, then removes one project and then the other. HEPH is the
# heph to run (default: scripts/heph, which builds it first).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
heph=${HEPH:-$repo/scripts/heph}
a=${1:-staging}
b=${2:-review}
port_a=${3:-8091}
port_b=${4:-8092}

# Whatever happens, neither project is left behind.
trap '"$heph" down -p "$a" >/dev/null 2>&1 || true; "$heph" down -p "$b" >/dev/null 2>&1 || true' EXIT

# The same script, unchanged: HEPH_STACK_ONCE makes it return once the stack is up.
HEPH_STACK_ONCE=1 "$heph" run -p "$a" "$repo/examples/stack.lua" "$port_a" & run_a=$!
HEPH_STACK_ONCE=1 "$heph" run -p "$b" "$repo/examples/stack.lua" "$port_b" & run_b=$!
wait "$run_a"
wait "$run_b"

"$heph" ps --all | grep -E "^(PROJECT|$a|$b) "

# In the script the db is stack-db in both; on each project's network it is its own.
echo "$a's api asks stack-db: $(docker exec "heph_${a}_stack-api" wget -q -O- http://stack-db:5432/)"
if ! docker exec "heph_${a}_stack-api" wget -q -O- "http://heph_${b}_stack-db:5432/" >/dev/null 2>&1; then
  echo "$a's api cannot reach heph_${b}_stack-db: another project's names do not resolve"
fi

"$heph" down -p "$a"
"$heph" ps --all | grep -E "^(PROJECT|$a|$b) "
"$heph" down -p "$b"
