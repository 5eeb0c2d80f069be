#!/usr/bin/env bash
# deps.sh — install the Debian 12 packages routerbench builds and tests with (only missing ones).
set -euo pipefail
# chromium: the report tests render SVG and HTML in it headless; libuv, inih, sqlite3: rbd;
# clang: test.sh also compiles the tree with it, warnings as errors
packages=(gcc clang pkg-config meson ninja-build libjansson-dev libssl-dev libcriterion-dev chromium
          libuv1-dev libinih-dev libsqlite3-dev libseccomp-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
