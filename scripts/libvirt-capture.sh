#!/bin/bash
# Capture libvirt's own QMP traffic (issue 12, docs/vm.md "libvirt's own traffic").
#
# Installs nothing. Needs libvirt's QEMU driver and virsh (Debian 12:
#   apt-get install libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients
# ), run as root. In a container without systemd it starts libvirtd itself, with a config of its own
# that logs every monitor message (log_filters="1:qemu.qemu_monitor": QEMU_MONITOR_SEND_MSG /
# RECV_REPLY / RECV_EVENT lines with the full JSON) and a qemu.conf that works without cgroups,
# namespaces or a security driver (written only when /etc/libvirt/qemu.conf is absent, as it is
# without libvirt-daemon-system). libvirt 9 refuses to start its QEMU driver when the user it runs
# guests as by default (libvirt-qemu) does not exist, even with user = "root": that user must exist.
#
# Each flow (a "session") starts a transient q35 TCG domain paused (`virsh create --paused`: no guest
# OS; libvirt drives QMP regardless), with a qcow2 chain on virtio-blk, a qcow2 on scsi-hd behind
# virtio-scsi and a raw CD-ROM on ide-cd (sata), drives virsh, destroys the domain and keeps
#   OUT/SESSION.cmdline       QEMU's command line (the domain log)
#   OUT/SESSION.monitor       the monitor lines of that domain only
#   OUT/SESSION.images.jsonl  the images made with qemu-img for it
# scripts/libvirt-to-scenario.ts turns them into a scenario (every session but `pull`, see flow_pull):
#
#   scripts/libvirt-capture.sh OUT [SESSION...]     (default: every session)
#   node --import tsx scripts/libvirt-to-scenario.ts OUT SESSION --out oracle/scenarios/vm/vm-lv-SESSION.json
#   npm run -s bg -- qmp record oracle/scenarios/vm/vm-lv-SESSION.json --out FILE [--qemu 10.0]
set -euo pipefail
OUT=${1:?usage: libvirt-capture.sh OUT [SESSION...]}; shift || true
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
IMG="$OUT/img"
# a libvirtd already running (started by an earlier capture) logs where LIBVIRTD_LOG says
LOG=${LIBVIRTD_LOG:-$OUT/libvirtd.log}
V="virsh -q -c qemu:///system"
DOM=bg

command -v virsh >/dev/null && command -v libvirtd >/dev/null || { echo "libvirt is not installed (see the header of $0)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }

if [ ! -f /etc/libvirt/qemu.conf ]; then
  cat > /etc/libvirt/qemu.conf <<'EOF'
# blockgraph's libvirt capture: a container without systemd, cgroups, namespaces or a security driver
security_driver = "none"
cgroup_controllers = [ ]
user = "root"
group = "root"
namespaces = [ ]
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
EOF
fi
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu
if ! $V version >/dev/null 2>&1; then
  printf 'log_filters="1:qemu.qemu_monitor"\nlog_outputs="1:file:%s"\n' "$LOG" > "$OUT/libvirtd.conf"
  libvirtd -d --config "$OUT/libvirtd.conf" --pid-file "$OUT/libvirtd.pid"
  for _ in $(seq 50); do $V version >/dev/null 2>&1 && break; sleep 0.2; done
  echo "started libvirtd (pid $(cat "$OUT/libvirtd.pid")); stop it with: kill \$(cat $OUT/libvirtd.pid)"
fi
[ -f "$LOG" ] || { echo "libvirtd does not log to $LOG: give its log as LIBVIRTD_LOG, or stop it and let this script start it" >&2; exit 2; }

# mk FILE FORMAT SIZE [BACKING]: an image in $IMG (backing named relative to it, as the scenario's
# `images` take it), noted in $OUT/SESSION.images.jsonl for scripts/libvirt-to-scenario.ts
mk() {
  local b=()
  [ -n "${4:-}" ] && b=(-b "$4" -F qcow2)
  (cd "$IMG" && qemu-img create -q -f "$2" "${b[@]}" "$1" "$3")
  if [ -n "${4:-}" ]; then
    printf '{"file":"%s","format":"%s","size":"%s","backing":"%s","backing-format":"qcow2"}\n' "$1" "$2" "$3" "$4"
  else
    printf '{"file":"%s","format":"%s","size":"%s"}\n' "$1" "$2" "$3"
  fi >> "$OUT/$CUR.images.jsonl"
}
images() {
  rm -rf "$IMG"; mkdir -p "$IMG"; : > "$OUT/$CUR.images.jsonl"
  mk base.qcow2 qcow2 1M
  mk mid.qcow2 qcow2 1M base.qcow2
  mk top.qcow2 qcow2 1M mid.qcow2
  mk sbase.qcow2 qcow2 1M
  mk stop.qcow2 qcow2 1M sbase.qcow2
  mk cd1.iso raw 1M
  mk cd2.iso raw 1M
}

domain_xml() {  # VDA_IO: extra <driver> attributes of vda; SCSI_IO: the controller's <driver>; EXTRA: more controllers
  cat <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <iothreads>1</iothreads>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'${VDA_IO:-}/>
      <source file='$IMG/top.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$IMG/stop.qcow2'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$IMG/cd1.iso'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <controller type='scsi' model='virtio-scsi'>${SCSI_IO:-}</controller>${EXTRA:-}
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# ---- the flows, one per session ------------------------------------------------------------------
flow_commit() {
  $V blockjob $DOM vda --info || true
  $V blockcommit $DOM vda --top "$IMG/mid.qcow2" --shallow --keep-relative --wait
  $V blockcommit $DOM vda --active --pivot --wait
  $V blockcommit $DOM sda --active --wait
  $V blockjob $DOM sda --info
  $V blockjob $DOM sda --abort
  $V domblklist $DOM
}
# blockpull alone: libvirt's block-stream has auto-dismiss false, and between the job's conclusion
# and libvirt's job-dismiss the stream filter is left without children; the recorder's graph query
# there (query-named-block-nodes) would crash QEMU 7.2, so this session is captured but not turned
# into a transcript (oracle/harness.ts snapshotGraph refuses it; docs/vm.md).
flow_pull() {
  $V blockpull $DOM vda --base "$IMG/base.qcow2" --wait
  $V blockpull $DOM vda --wait
}
flow_copy() {
  $V blockcopy $DOM vda "$IMG/copy1.qcow2" --wait --pivot
  mk copy2.qcow2 qcow2 1M sbase.qcow2
  $V blockcopy $DOM sda "$IMG/copy2.qcow2" --shallow --reuse-external --format qcow2 --wait --finish
  $V blockcopy $DOM sda "$IMG/copy3.qcow2" --shallow --wait
  $V blockjob $DOM sda --info
  $V blockjob $DOM sda --abort
  $V domblklist $DOM
}
flow_snapshot() {
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sda,snapshot=no --diskspec sdb,snapshot=no
  $V snapshot-create-as $DOM --disk-only --no-metadata --atomic --diskspec vda,file="$IMG/snap2.qcow2" \
    --diskspec sda,file="$IMG/ssnap1.qcow2" --diskspec sdb,snapshot=no
  $V domblklist $DOM
  $V blockresize $DOM vda 2M
  $V domblkinfo $DOM vda
  $V domblkinfo $DOM --all
  $V domblkstat $DOM vda
  $V blkdeviotune $DOM vda --total-bytes-sec 10000000 --live
  $V blkdeviotune $DOM vda
  $V blkdeviotune $DOM sda --read-iops-sec 100 --group-name g1 --live
  $V blkdeviotune $DOM vda --total-bytes-sec 0 --live
}
flow_media() {
  $V change-media $DOM sdb --eject
  $V change-media $DOM sdb "$IMG/cd2.iso" --insert
  $V change-media $DOM sdb "$IMG/cd1.iso" --update
  $V change-media $DOM sdb --eject --force
  $V domblkinfo $DOM sdb || true
  $V change-media $DOM sdb "$IMG/cd2.iso" --insert
}
flow_hotplug() {
  mk hot1.qcow2 qcow2 1M
  mk hot2.qcow2 qcow2 1M
  $V attach-disk $DOM "$IMG/hot1.qcow2" vdb --driver qemu --subdriver qcow2 --targetbus virtio --iothread 1 --live
  $V attach-disk $DOM "$IMG/hot2.qcow2" sdc --driver qemu --subdriver qcow2 --targetbus scsi --live
  $V domblklist $DOM
  $V domblkstat $DOM vdb
  $V detach-disk $DOM vdb --live
  $V detach-disk $DOM sdc --live
  $V domblklist $DOM
}
flow_backup() {
  $V checkpoint-create-as $DOM ck1 --diskspec vda,checkpoint=bitmap --diskspec sda,checkpoint=no --diskspec sdb,checkpoint=no
  cat > "$OUT/push.xml" <<EOF
<domainbackup>
  <disks>
    <disk name='vda' type='file'><target file='$IMG/bk1.qcow2'/><driver type='qcow2'/></disk>
    <disk name='sda' backup='no'/>
    <disk name='sdb' backup='no'/>
  </disks>
</domainbackup>
EOF
  $V backup-begin $DOM "$OUT/push.xml"
  for _ in $(seq 50); do $V domjobinfo $DOM | grep -q 'Job type: *None' && break; sleep 0.2; done
  $V domjobinfo $DOM --completed || true
  cat > "$OUT/pull.xml" <<EOF
<domainbackup mode='pull'>
  <incremental>ck1</incremental>
  <server transport='unix' socket='$IMG/nbd.sock'/>
  <disks>
    <disk name='vda' backup='yes' type='file'><scratch file='$IMG/scratch1.qcow2'/></disk>
    <disk name='sda' backup='no'/>
    <disk name='sdb' backup='no'/>
  </disks>
</domainbackup>
EOF
  $V backup-begin $DOM "$OUT/pull.xml" --reuse-external=false 2>/dev/null || $V backup-begin $DOM "$OUT/pull.xml"
  $V domjobinfo $DOM
  $V domjobabort $DOM
  $V checkpoint-delete $DOM ck1 || true
}
# the virtio-blk disk and the virtio-scsi controller in iothread1
flow_iothread() {
  $V blockcommit $DOM sda --active --pivot --wait
  $V blockcopy $DOM sda "$IMG/copy1.qcow2" --wait --pivot
  mk hot2.qcow2 qcow2 1M
  $V attach-disk $DOM "$IMG/hot2.qcow2" sdc --driver qemu --subdriver qcow2 --targetbus scsi --live
  $V snapshot-create-as $DOM --disk-only --no-metadata --atomic --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sdc,file="$IMG/snap2.qcow2" --diskspec sda,snapshot=no --diskspec sdb,snapshot=no
  $V blkdeviotune $DOM sdc --total-iops-sec 100 --live
  $V detach-disk $DOM sdc --live
  $V attach-disk $DOM "$IMG/cd2.iso" sdd --type cdrom --targetbus scsi --mode readonly --live
  # libvirt 9.0 sends no blockdev-open-tray for a hot-plugged CD-ROM (it learns of trays from
  # query-block at start-up only), so QEMU refuses the removal: the flow goes on
  $V change-media $DOM sdd --eject || true
  $V change-media $DOM sdd "$IMG/cd1.iso" --insert || true
  $V detach-disk $DOM sdd --live
  $V blockcommit $DOM vda --active --pivot --wait
}
# what libvirt lets through to QEMU at the edges (each command may fail; the flow goes on)
flow_edges() {
  mk hot1.raw raw 1M
  mk hot2.qcow2 qcow2 1M
  $V detach-disk $DOM sdb --live || true
  $V attach-disk $DOM "$IMG/hot2.qcow2" sdc --driver qemu --subdriver qcow2 --targetbus sata --live || true
  $V attach-disk $DOM "$IMG/hot1.raw" vdb --driver qemu --subdriver raw --targetbus virtio --mode shareable --live || true
  $V attach-disk $DOM "$IMG/hot2.qcow2" vdc --driver qemu --subdriver qcow2 --targetbus virtio --mode readonly --live || true
  $V blockresize $DOM vdc 2M || true
  $V blockresize $DOM sdb 2M || true
  $V blockresize $DOM vda 512K || true
  $V domblkthreshold $DOM vda 100000 || true
  $V blockcommit $DOM vda --active --wait || true
  $V blockjob $DOM vda --pivot || true
  $V blockcopy $DOM vda "$IMG/copy1.qcow2" --wait --synchronous-writes --pivot || true
  $V blockcopy $DOM sda "$IMG/copy2.qcow2" --wait --granularity 65536 --buf-size 1048576 || true
  $V blockjob $DOM sda --abort || true
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sda,snapshot=no --diskspec sdb,snapshot=no --diskspec vdb,snapshot=no --diskspec vdc,snapshot=no || true
  $V domblkinfo $DOM --all
  $V detach-disk $DOM vdb --live || true
  $V detach-disk $DOM vdc --live || true
}
# what QEMU refuses under libvirt (no lock manager, so QEMU's image locking is the guard)
flow_refusals() {
  $V attach-disk $DOM "$IMG/top.qcow2" vdb --driver qemu --subdriver qcow2 --targetbus virtio --live || true
  $V attach-disk $DOM "$IMG/base.qcow2" vdb --driver qemu --subdriver qcow2 --targetbus virtio --live || true
  $V attach-disk $DOM "$IMG/sbase.qcow2" sdc --driver qemu --subdriver qcow2 --targetbus scsi --mode readonly --live || true
  mk ovl.qcow2 qcow2 1M top.qcow2
  $V snapshot-create-as $DOM --disk-only --no-metadata --reuse-external --diskspec vda,file="$IMG/ovl.qcow2" \
    --diskspec sda,snapshot=no --diskspec sdb,snapshot=no || true
  mk small.qcow2 qcow2 512K
  $V blockcopy $DOM sda "$IMG/small.qcow2" --shallow --reuse-external --format qcow2 --wait --pivot || true
  $V blockresize $DOM vda 4M || true
  $V blockcommit $DOM vda --active --pivot --wait || true
  $V domblkinfo $DOM --all || true
}
flow_runstate() {
  $V resume $DOM
  $V blockcommit $DOM vda --top "$IMG/mid.qcow2" --wait
  $V suspend $DOM
  $V blockcommit $DOM sda --active --pivot --wait
  $V resume $DOM
  $V blockresize $DOM sda 2M
  $V suspend $DOM
}

SESSIONS=${*:-commit copy snapshot media hotplug backup runstate iothread edges refusals pull}
for s in $SESSIONS; do
  CUR=$s
  VDA_IO=; SCSI_IO=; EXTRA=
  # two more empty root ports: libvirt 9.0 adds none on hotplug ("No more available PCI slots")
  [ "$s" = edges ] && EXTRA="<controller type='pci' index='5' model='pcie-root-port'/><controller type='pci' index='6' model='pcie-root-port'/>"
  [ "$s" = iothread ] && { VDA_IO=" iothread='1'"; SCSI_IO="<driver iothread='1'/>"; }
  images
  $V destroy $DOM >/dev/null 2>&1 || true
  domain_xml > "$OUT/$s.xml"
  start=$(stat -c %s "$LOG")
  : > /var/log/libvirt/qemu/$DOM.log
  $V create "$OUT/$s.xml" --paused >/dev/null
  echo "== $s"
  set +e; ( set -e; "flow_$s" ) 2>&1 | sed 's/^/  /'; rc=${PIPESTATUS[0]}; set -e
  $V destroy $DOM >/dev/null 2>&1 || true
  sleep 0.5
  tail -c +$((start + 1)) "$LOG" > "$OUT/$s.monitor"
  grep -m1 -- '-blockdev\|/usr/bin/qemu-system' /var/log/libvirt/qemu/$DOM.log >/dev/null
  sed -n '/qemu-system-x86_64/,/^-msg\|msg timestamp/p' /var/log/libvirt/qemu/$DOM.log > "$OUT/$s.cmdline"
  echo "   flow exit $rc; $(grep -c QEMU_MONITOR_SEND_MSG "$OUT/$s.monitor") monitor commands"
done
