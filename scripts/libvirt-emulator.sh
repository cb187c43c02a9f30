#!/bin/sh
# libvirt's <emulator> for blockgraph (scripts/libvirt-emulator.py; docs/vm.md "libvirt driving blockgraph")
exec python3 "$(dirname "$(readlink -f "$0")")/libvirt-emulator.py" "$@"
