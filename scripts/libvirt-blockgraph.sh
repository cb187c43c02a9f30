#!/bin/bash
# libvirt driving blockgraph, unchanged (docs/vm.md "libvirt driving blockgraph, round 2"): a real
# libvirt runs blockgraph's VM mode as a domain's <emulator> (scripts/libvirt-emulator.sh) and virsh
# does a day of block work on it, with no replayed answers. Needs libvirt as for
# scripts/libvirt-capture.sh (libvirtd running, or startable by that script's recipe), run as root.
#
#   scripts/libvirt-blockgraph.sh OUT [q35|pc]...     (default: both)
#   EMULATOR=/usr/bin/qemu-system-x86_64 scripts/libvirt-blockgraph.sh OUT2   (the same day on QEMU,
#       to compare virsh's answers: diff <(cut -f1-4 OUT/steps.tsv | sed s,OUT,X,) <(… OUT2 …))
#
# Writes OUT/steps.tsv: DOMAIN<TAB>STEP<TAB>EXIT<TAB>virsh's output (one line, \n as " | "),
# OUT/MACHINE.emulator.log (blockgraph's side) and OUT/MACHINE.db (blockgraph's log of the domain,
# for `blockgraph replay --verify`). Every step runs whatever the one before did; the spec
# specs/oracle/libvirt-drive.spec.ts reads steps.tsv.
set -uo pipefail
OUT=${1:?usage: libvirt-blockgraph.sh OUT [q35|pc]...}; shift || true
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
IMG="$OUT/img"
V="timeout 120 virsh -q -c qemu:///system"
DOM=bgl3
EMU_DIR=/tmp/blockgraph-emulator   # the emulator's (libvirt runs it with a clean environment)
EMULATOR=${EMULATOR:-$REPO/scripts/libvirt-emulator.sh}

command -v virsh >/dev/null || { echo "libvirt is not installed (scripts/libvirt-capture.sh)" >&2; exit 2; }
$V version >/dev/null 2>&1 || { echo "libvirtd is not running (start it as scripts/libvirt-capture.sh does)" >&2; exit 2; }
: > "$OUT/steps.tsv"

img() {
  (cd "$IMG" && qemu-img create -q -f "$2" ${4:+-b "$4" -F qcow2} "$1" "$3")
  # as scripts/libvirt-capture.sh notes them, for scripts/libvirt-to-scenario.ts
  printf '{"file":"%s","format":"%s","size":"%s"%s}\n' "$1" "$2" "$3" "${4:+,\"backing\":\"$4\",\"backing-format\":\"qcow2\"}" >> "$OUT/$CUR.images.jsonl"
}
images() {
  rm -rf "$IMG"; mkdir -p "$IMG"; : > "$OUT/$CUR.images.jsonl"
  img base.qcow2 qcow2 1M; img mid.qcow2 qcow2 1M base.qcow2; img top.qcow2 qcow2 1M mid.qcow2
  img sbase.qcow2 qcow2 1M; img stop.qcow2 qcow2 1M sbase.qcow2
  img cd1.iso raw 1M; img cd2.iso raw 1M; img hot1.qcow2 qcow2 1M; img hot2.qcow2 qcow2 1M
}
# step NAME virsh-args...: runs virsh, notes its exit and output
step() {
  local name=$1; shift
  local out rc
  out=$($V "$@" 2>&1); rc=$?
  printf '%s\t%s\t%s\t%s\n' "$CUR" "$name" "$rc" "$(printf '%s' "$out" | tr '\t' ' ' | sed ':a;N;$!ba;s/\n/ | /g')" >> "$OUT/steps.tsv"
}

domain_xml() {  # $1: q35 or pc (pc: the CD-ROM on IDE, no sata)
  local cdbus=sata cddev=sdb
  [ "$1" = pc ] && { cdbus=ide; cddev=hdc; }
  cat <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <iothreads>1</iothreads>
  <os><type arch='x86_64' machine='$1'>hvm</type></os>
  <devices>
    <emulator>$EMULATOR</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='$IMG/top.qcow2'/><target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='$IMG/stop.qcow2'/><target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/><source file='$IMG/cd1.iso'/><target dev='$cddev' bus='$cdbus'/><readonly/>
    </disk>
    <controller type='scsi' model='virtio-scsi'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

run_domain() {
  CUR=$1
  local cd=sdb; [ "$CUR" = pc ] && cd=hdc
  images
  domain_xml "$CUR" > "$OUT/$CUR.xml"
  $V destroy $DOM >/dev/null 2>&1 || true
  rm -rf "$EMU_DIR"
  # paused: no guest (SeaBIOS reads vda's first sector once the VCPU runs, which the model, without
  # a guest, never does); resumed once domblkstat has been read
  # LIBVIRTD_LOG (libvirtd's log with log_filters="1:qemu.qemu_monitor", as libvirt-capture.sh
  # starts it): the domain's monitor traffic and command line are kept as OUT/MACHINE.monitor and
  # .cmdline, which scripts/libvirt-to-scenario.ts OUT MACHINE --round 3 turns into vm-lv3-MACHINE
  local start=0
  [ -n "${LIBVIRTD_LOG:-}" ] && start=$(stat -c %s "$LIBVIRTD_LOG")
  : > /var/log/libvirt/qemu/$DOM.log 2>/dev/null || true
  step create create "$OUT/$CUR.xml" --paused
  step domblklist domblklist $DOM
  step domblkinfo domblkinfo $DOM vda
  step domblkstat domblkstat $DOM vda
  step resume resume $DOM
  step domstate domstate $DOM
  step blockpull blockpull $DOM vda --wait
  step snapshot-one snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sda,snapshot=no --diskspec $cd,snapshot=no
  step snapshot-atomic snapshot-create-as $DOM --disk-only --no-metadata --atomic --diskspec vda,file="$IMG/snap2.qcow2" \
    --diskspec sda,file="$IMG/ssnap1.qcow2" --diskspec $cd,snapshot=no
  step domblklist-after-snapshots domblklist $DOM
  step blockcommit-shallow blockcommit $DOM sda --top "$IMG/stop.qcow2" --shallow --wait
  step blockcommit-active-pivot blockcommit $DOM vda --active --pivot --wait
  step domblklist-after-commit domblklist $DOM
  step blockcopy-pivot blockcopy $DOM vda "$IMG/copy1.qcow2" --wait --pivot
  step domblklist-after-copy domblklist $DOM
  step blockcommit-bandwidth blockcommit $DOM sda --active --bandwidth 1
  step blockjob-bandwidth blockjob $DOM sda --bandwidth 2
  step blockjob-info blockjob $DOM sda --info
  step blockjob-abort blockjob $DOM sda --abort
  step change-media-eject change-media $DOM $cd --eject
  step change-media-insert change-media $DOM $cd "$IMG/cd2.iso" --insert
  step attach-virtio attach-disk $DOM "$IMG/hot1.qcow2" vdb --driver qemu --subdriver qcow2 --targetbus virtio --live
  step attach-scsi attach-disk $DOM "$IMG/hot2.qcow2" sdc --driver qemu --subdriver qcow2 --targetbus scsi --live
  step domblklist-attached domblklist $DOM
  step detach-virtio detach-disk $DOM vdb --live
  step detach-scsi detach-disk $DOM sdc --live
  step domblklist-detached domblklist $DOM
  step blockresize blockresize $DOM vda 2M
  step domblkinfo-resized domblkinfo $DOM vda
  step domblkthreshold domblkthreshold $DOM vda 100000
  cat > "$OUT/$CUR.push.xml" <<EOF
<domainbackup>
  <disks>
    <disk name='vda' type='file'><target file='$IMG/bk1.qcow2'/><driver type='qcow2'/></disk>
    <disk name='sda' backup='no'/>
    <disk name='$cd' backup='no'/>
  </disks>
</domainbackup>
EOF
  step backup-begin backup-begin $DOM "$OUT/$CUR.push.xml"
  for _ in $(seq 50); do $V domjobinfo $DOM 2>/dev/null | grep -q 'Job type: *None' && break; sleep 0.2; done
  step domjobinfo-completed domjobinfo $DOM --completed
  step suspend suspend $DOM
  step domstate-suspended domstate $DOM
  step destroy destroy $DOM
  if [ -n "${LIBVIRTD_LOG:-}" ]; then
    sleep 0.5
    tail -c +$((start + 1)) "$LIBVIRTD_LOG" > "$OUT/$CUR.monitor"
    sed -n '/qemu-system-x86_64\|libvirt-emulator/,/^-msg\|msg timestamp/p' /var/log/libvirt/qemu/$DOM.log > "$OUT/$CUR.cmdline"
  fi
  cp "$EMU_DIR/emulator.log" "$OUT/$CUR.emulator.log" 2>/dev/null || true
  rm -rf "$OUT/$CUR.db"; cp -r "$(ls -d "$EMU_DIR"/db-* | head -1)" "$OUT/$CUR.db" 2>/dev/null || true
}

for m in ${*:-q35 pc}; do run_domain "$m"; done
cut -f1-3 "$OUT/steps.tsv"
