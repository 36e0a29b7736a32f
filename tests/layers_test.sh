#!/usr/bin/env bash
# build.layers: scripts/check-layers on the tree (every include follows the layers that
# src/CMakeLists.txt declares), and on small trees that break them, so the check cannot pass
# by accident. Usage: tests/layers_test.sh <layers-table>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../scripts/check-layers
table=${1:?usage: tests/layers_test.sh <build>/lanyard-layers.txt}

"$check" "$table"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf 'core \nlink core\nclient core,link\n' > "$scratch/table"

# expect_violation <name> <file> <text> <expected message part>
expect_violation() {
  local name=$1 file=$2 text=$3 expected=$4 root=$scratch/$1 out
  mkdir -p "$root/src/core" "$root/src/link" "$root/src/client" "$root/$(dirname "$file")"
  printf '#include "quote.hpp"\n#include <lanyard/core/frame.hpp>\n' > "$root/src/link/ok.cpp"
  printf '%s\n' "$text" > "$root/$file"
  if out=$("$check" "$scratch/table" "$root" 2>&1); then
    echo "FAIL ($name): check-layers passed a tree where $file has: $text" >&2
    exit 1
  fi
  if [[ $out != *"$expected"* ]]; then
    echo "FAIL ($name): expected '$expected' in:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: $name"
}

expect_violation upward src/link/up.cpp '#include <lanyard/client/client_channel.hpp>' \
  'lanyard::link includes <lanyard/client/...> but does not depend on lanyard::client'
expect_violation private src/client/peek.cpp '#include "link/netlink.hpp"' \
  'a header of another directory'
expect_violation private_relative src/client/peek.cpp '#  include "../link/netlink.hpp"' \
  'a header of another directory'
expect_violation public_header include/lanyard/link/api.hpp '#include "lanyard/client/pair.hpp"' \
  'lanyard::link includes <lanyard/client/...>'
expect_violation tool src/cli/cmd.cpp '#include "trust/state_file.hpp"' \
  'the tool src/cli includes "trust/state_file.hpp"'
expect_violation unknown_module src/extra/x.cpp '#include <lanyard/core/frame.hpp>' \
  'src/extra/ has sources but is no module'

# A transitive dependency is allowed: client -> link -> core.
clean=$scratch/clean
mkdir -p "$clean/src/client" "$clean/src/link"
printf '#include <lanyard/core/frame.hpp>\n#include "lanyard/link/mptcp.hpp"\n' > "$clean/src/client/a.cpp"
"$check" "$scratch/table" "$clean" > /dev/null
echo "ok: transitive dependency allowed"
