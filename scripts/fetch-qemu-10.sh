#!/usr/bin/env bash
# Fetches QEMU 10.0 from Debian bookworm-backports into a cache directory, beside the system's 7.2
# and without installing it: `apt-get download` then `dpkg -x` of each package.
#   - qemu-storage-daemon, qemu-img, qemu-io: qemu-system-common, qemu-utils, qemu-block-extra;
#   - the VM (qemu-system-x86_64, the vm target): qemu-system-x86, plus what it reads at run time
#     that the system's 7.2 packages would otherwise give it from /usr/share: qemu-system-data
#     (kvmvapic.bin, the keymaps) and seabios (bios-256k.bin; 10.0's package wants >> 1.16.3, 7.2's
#     system has 1.16.2). The recorder passes `-L` of the cache's usr/share/qemu and
#     usr/share/seabios and QEMU_MODULE_DIR of its modules (oracle/qemu-bins.ts), so the 10.0 VM
#     never reads a file of the 7.2 packages. Its libraries are bookworm's own (ldd: none missing).
# Idempotent: a cache that already runs both 10.0 binaries is left as it is; a cache with the
# daemon but not the VM (fetched before the VM was added) gets the VM's packages only, added
# beside what is there (the daemon is never removed under a running recording). Prints the
# directory holding the binaries (what BLOCKGRAPH_QEMU_10_0_DIR names; oracle/qemu-bins.ts also
# looks there by default). The VM is optional: when its packages cannot be had the daemon is
# still fetched, a note goes to stderr and the VM-10.0 specs say they are skipped.
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
vm10() {
  [ -x "$BIN/qemu-system-x86_64" ] && [ -f "$DEST/usr/share/seabios/bios-256k.bin" ] && [ -f "$DEST/usr/share/qemu/kvmvapic.bin" ] &&
    "$BIN/qemu-system-x86_64" --version 2>/dev/null | grep -q 'version 10\.0\.'
}
if is10 && vm10; then echo "$BIN"; exit 0; fi

command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "fetch-qemu-10: needs apt-get and dpkg (Debian 12)" >&2; exit 2; }
mkdir -p "$DEST"
WORK=$(mktemp -d "$DEST/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
QSD_PKGS=(qemu-system-common/bookworm-backports qemu-utils/bookworm-backports qemu-block-extra/bookworm-backports)
VM_PKGS=(qemu-system-x86/bookworm-backports qemu-system-data/bookworm-backports seabios/bookworm-backports)
SOURCES='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

APT=()
if [ "$(id -u)" = 0 ]; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf '%s\n' "$SOURCES" > /etc/apt/sources.list.d/backports.sources
  fi
  apt-get update -qq
else
  # a private apt: the system's sources plus backports, lists and cache under $WORK
  mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/parts"
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$WORK/parts/" 2>/dev/null || true
  grep -rqs 'bookworm-backports' "$WORK/parts/" || printf '%s\n' "$SOURCES" > "$WORK/parts/backports.sources"
  APT=(-o "Dir::Etc::SourceParts=$WORK/parts" -o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache=$WORK/cache" -o "Debug::NoLocking=1")
  [ -f /etc/apt/sources.list ] && APT+=(-o "Dir::Etc::SourceList=/etc/apt/sources.list") || APT+=(-o "Dir::Etc::SourceList=/dev/null")
  apt-get "${APT[@]}" update -qq
fi
mkdir -p "$WORK/qsd" "$WORK/vm"
# (as root apt's sandbox user cannot write into the cache: the download runs unsandboxed, said once)
download() { (cd "$1" && shift && apt-get "${APT[@]}" -o APT::Sandbox::User=root download -qq "$@"); }
HAVE_QSD=1; is10 || HAVE_QSD=0
[ "$HAVE_QSD" = 1 ] || download "$WORK/qsd" "${QSD_PKGS[@]}"
VM_OK=1
download "$WORK/vm" "${VM_PKGS[@]}" || VM_OK=0

# unpack into fresh trees; the daemon's tree replaces an old cache whole (an interrupted fetch
# never leaves half a cache), the VM's is added file by file beside a daemon already there
TREE="$WORK/tree"
if [ "$HAVE_QSD" = 0 ]; then
  for deb in "$WORK"/qsd/*.deb; do dpkg -x "$deb" "$TREE"; done
  [ -x "$TREE/usr/bin/qemu-storage-daemon" ] || { echo "fetch-qemu-10: no qemu-storage-daemon in the packages" >&2; exit 1; }
fi
VTREE="$WORK/vtree"
if [ "$VM_OK" = 1 ]; then
  for deb in "$WORK"/vm/*.deb; do dpkg -x "$deb" "$VTREE"; done
  [ -x "$VTREE/usr/bin/qemu-system-x86_64" ] || VM_OK=0
fi
if [ "$HAVE_QSD" = 0 ]; then
  [ "$VM_OK" = 1 ] && cp -a "$VTREE/." "$TREE/"
  rm -rf "$DEST/usr" "$DEST/etc" "$DEST/lib"
  for d in "$TREE"/*; do mv "$d" "$DEST/"; done
elif [ "$VM_OK" = 1 ]; then
  cp -a "$VTREE/." "$DEST/"
fi
is10 || { echo "fetch-qemu-10: $BIN/qemu-storage-daemon is not 10.0: $("$BIN/qemu-storage-daemon" --version | head -1)" >&2; exit 1; }
vm10 || echo "fetch-qemu-10: note: no QEMU 10.0 qemu-system-x86_64 (qemu-system-x86, qemu-system-data, seabios from bookworm-backports); the VM-10.0 specs will say they are skipped" >&2
echo "$BIN"
