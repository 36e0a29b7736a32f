#!/usr/bin/env bash
# consumer_test.sh BUILD_DIR PROJECT_DIR WORK_DIR
set -euo pipefail
build=$1 project=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

echo "== find_package(lanyard CONFIG)"
cmake -S "$project" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake-build" || exit 1
"$work/cmake-build/consumer"

echo "== pkg-config lanyard"
libdir=$(find "$prefix" -name lanyard.pc -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || { echo "lanyard.pc was not installed"; exit 1; }
flags=$(PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs lanyard)
# The installed .pc names the prefix given at configure time; point it at the scratch prefix.
flags=$(PKG_CONFIG_PATH=$libdir pkg-config --define-variable=prefix="$prefix" --cflags --libs lanyard)
c++ -o "$work/pc-consumer" "$project/main.cpp" $flags
"$work/pc-consumer"
echo "consumer builds and runs with both CMake and pkg-config"
