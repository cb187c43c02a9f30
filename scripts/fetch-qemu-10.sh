#!/usr/bin/env bash
# Fetches QEMU 10.0 (qemu-storage-daemon, qemu-img, qemu-io) from Debian bookworm-backports into
# a cache directory, beside the system's 7.2 and without installing it: `apt-get download` of
# qemu-system-common, qemu-utils and qemu-block-extra, then `dpkg -x` of each. Idempotent: a
# cache that already runs 10.0 is left as it is. Prints the directory holding the binaries
# (what BLOCKGRAPH_QEMU_10_0_DIR names; oracle/qemu-bins.ts also looks there by default).
#
#   scripts/fetch-qemu-10.sh [CACHE_DIR]     default ~/.cache/blockgraph/qemu-10.0
#
# As root the suite is added to apt's sources (/etc/apt/sources.list.d/backports.sources) if
# missing; otherwise apt runs on a private sources list and lists directory inside the cache,
# so no root is needed.
set -euo pipefail
DEST=${1:-${BLOCKGRAPH_QEMU_10_0_CACHE:-$HOME/.cache/blockgraph/qemu-10.0}}
BIN="$DEST/usr/bin"
is10() { [ -x "$BIN/qemu-storage-daemon" ] && "$BIN/qemu-storage-daemon" --version 2>/dev/null | grep -q 'version 10\.0\.'; }
if is10; then echo "$BIN"; exit 0; fi

command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "fetch-qemu-10: needs apt-get and dpkg (Debian 12)" >&2; exit 2; }
mkdir -p "$DEST"
WORK=$(mktemp -d "$DEST/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PKGS=(qemu-system-common/bookworm-backports qemu-utils/bookworm-backports qemu-block-extra/bookworm-backports)
SOURCES='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

if [ "$(id -u)" = 0 ]; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf '%s\n' "$SOURCES" > /etc/apt/sources.list.d/backports.sources
  fi
  apt-get update -qq
  (cd "$WORK" && apt-get download -qq "${PKGS[@]}")
else
  # a private apt: the system's sources plus backports, lists and cache under $WORK
  mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/parts"
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$WORK/parts/" 2>/dev/null || true
  grep -rqs 'bookworm-backports' "$WORK/parts/" || printf '%s\n' "$SOURCES" > "$WORK/parts/backports.sources"
  APT=(-o "Dir::Etc::SourceParts=$WORK/parts" -o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache=$WORK/cache" -o "Debug::NoLocking=1")
  [ -f /etc/apt/sources.list ] && APT+=(-o "Dir::Etc::SourceList=/etc/apt/sources.list") || APT+=(-o "Dir::Etc::SourceList=/dev/null")
  apt-get "${APT[@]}" update -qq
  (cd "$WORK" && apt-get "${APT[@]}" download -qq "${PKGS[@]}")
fi

# unpack into a fresh tree and move it in whole: an interrupted fetch never leaves half a cache
TREE="$WORK/tree"
for deb in "$WORK"/*.deb; do dpkg -x "$deb" "$TREE"; done
[ -x "$TREE/usr/bin/qemu-storage-daemon" ] || { echo "fetch-qemu-10: no qemu-storage-daemon in the packages" >&2; exit 1; }
rm -rf "$DEST/usr" "$DEST/etc" "$DEST/lib"
for d in "$TREE"/*; do mv "$d" "$DEST/"; done
is10 || { echo "fetch-qemu-10: $BIN/qemu-storage-daemon is not 10.0: $("$BIN/qemu-storage-daemon" --version | head -1)" >&2; exit 1; }
echo "$BIN"
