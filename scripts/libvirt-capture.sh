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

# VDA_IO: extra <driver> attributes of vda; VDA_EXTRA: more elements of vda (iotune…); SCSI_IO: the
# controller's <driver>; EXTRA: more controllers; DISKS: more disks; MACHINE (q35), IOTHREADS (1);
# CDBUS: the CD-ROM's bus (sata; ide on pc)
domain_xml() {
  cat <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <iothreads>${IOTHREADS:-1}</iothreads>
  <os><type arch='x86_64' machine='${MACHINE:-q35}'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'${VDA_IO:-}/>
      <source file='$IMG/top.qcow2'/>
      <target dev='vda' bus='virtio'/>${VDA_EXTRA:-}
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$IMG/stop.qcow2'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$IMG/cd1.iso'/>
      <target dev='${CDDEV:-sdb}' bus='${CDBUS:-sata}'/>
      <readonly/>
    </disk>${DISKS:-}
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

# ---- round 2 (docs/vm.md "libvirt's own traffic, round 2"): new domain shapes, new flows ---------
# disk DEV BUS FILE TYPE [DRIVER_ATTRS] [MORE_XML]: one more file disk of the domain
disk() {
  printf "\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='%s'%s/>\n      <source file='%s'/>\n      <target dev='%s' bus='%s'/>%s\n    </disk>" \
    "$4" "${5:-}" "$IMG/$3" "$1" "$2" "${6:-}"
}
# the shapes' flows: what libvirt sends at start-up for the shape, then a command or two that reaches it
flow_cor() {        # <driver copy_on_read='on'>: libvirt puts a copy-on-read filter node over the disk
  $V domblklist $DOM
  $V blockcommit $DOM vda --active --pivot --wait || true
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sda,snapshot=no --diskspec sdb,snapshot=no || true
  $V blockcopy $DOM vda "$IMG/copy1.qcow2" --wait --pivot || true
  $V domblkinfo $DOM vda
}
flow_iotune() {     # <iotune> with group_name on two disks
  $V blkdeviotune $DOM vda
  $V blkdeviotune $DOM vdb --total-iops-sec 200 --group-name g1 --live
  $V blkdeviotune $DOM vdb --read-bytes-sec 1000000 --group-name g2 --live
  $V blkdeviotune $DOM vda --total-iops-sec 0 --live || true
  $V blkdeviotune $DOM vda
  $V detach-disk $DOM vdb --live || true
}
flow_rosh() {       # <readonly/> and <shareable/> disks
  $V domblkinfo $DOM --all
  $V blockcopy $DOM vdc "$IMG/copy1.raw" --wait --pivot --format raw || true
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec sdb,snapshot=no --diskspec vdb,file="$IMG/snap1.qcow2" --diskspec vdc,snapshot=no || true
  $V detach-disk $DOM vdb --live || true
  $V detach-disk $DOM vdc --live || true
}
flow_slice() {      # a raw storage slice (offset/size on the raw node)
  $V domblkinfo $DOM vdb
  $V blockresize $DOM vdb 1M || true
  $V blockcopy $DOM vdb "$IMG/copy1.raw" --wait --pivot --format raw || true
  $V domblkinfo $DOM vdb
}
flow_discard() {    # discard='unmap' detect_zeroes='unmap'
  $V blockcopy $DOM vda "$IMG/copy1.qcow2" --wait --pivot
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec sda,snapshot=no --diskspec sdb,snapshot=no
  $V blockcommit $DOM vda --active --pivot --wait
}
flow_cache() {      # cache='none' / 'unsafe' / 'directsync'
  $V domblkinfo $DOM --all
  $V snapshot-create-as $DOM --disk-only --no-metadata --atomic --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec sdb,snapshot=no --diskspec vdb,file="$IMG/snap1.qcow2" --diskspec vdc,file="$IMG/snap2.qcow2" --diskspec vdd,file="$IMG/snap3.qcow2"
  $V blockcommit $DOM vdc --active --pivot --wait
  $V blockcopy $DOM vdd "$IMG/copy1.qcow2" --wait --pivot
}
flow_io() {         # io='native' (with cache='none') and io='threads'
  $V domblkinfo $DOM --all
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec sdb,snapshot=no --diskspec vdb,file="$IMG/snap1.qcow2" --diskspec vdc,file="$IMG/snap2.qcow2"
  $V blockcommit $DOM vdb --active --pivot --wait
  mk hot1.qcow2 qcow2 1M
  $V attach-disk $DOM "$IMG/hot1.qcow2" vdd --driver qemu --subdriver qcow2 --targetbus virtio --cache none --io native --live || true
}
flow_errpol() {     # error_policy / rerror_policy
  $V domblkerror $DOM || true
  $V resume $DOM
  $V domblkerror $DOM || true
  $V blockcopy $DOM sda "$IMG/copy1.qcow2" --wait --pivot
  $V suspend $DOM
}
flow_luks() {       # a LUKS-encrypted qcow2 (libvirt: -object secret, encrypt.key-secret)
  $V domblkinfo $DOM vdb || true
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec sdb,snapshot=no --diskspec vdb,file="$IMG/snap1.qcow2" || true
  $V detach-disk $DOM vdb --live || true
}
flow_nbd() {        # a network disk on an NBD server (qemu-nbd on a unix socket)
  $V domblkinfo $DOM vdb || true
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec sdb,snapshot=no --diskspec vdb,file="$IMG/snap1.qcow2" || true
  $V blockcommit $DOM vdb --active --pivot --wait || true
}
flow_sata() {       # sata CD-ROMs: change-media, update-device
  $V change-media $DOM sdc "$IMG/cd2.iso" --insert
  cat > "$OUT/cd-update.xml" <<EOF
<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source file='$IMG/cd2.iso'/>
  <target dev='sdb' bus='sata'/>
  <readonly/>
</disk>
EOF
  $V update-device $DOM "$OUT/cd-update.xml" --live
  cat > "$OUT/cd-eject.xml" <<EOF
<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <target dev='sdc' bus='sata'/>
  <readonly/>
</disk>
EOF
  $V update-device $DOM "$OUT/cd-eject.xml" --live
  $V change-media $DOM sdb --eject
  $V domblkinfo $DOM --all || true
}
flow_pc() {         # an i440fx (pc) machine, IDE disk and IDE CD-ROM
  $V domblkinfo $DOM --all
  $V snapshot-create-as $DOM --disk-only --no-metadata --diskspec vda,snapshot=no --diskspec sda,snapshot=no \
    --diskspec hdc,snapshot=no --diskspec hda,file="$IMG/snap1.qcow2"
  $V blockcommit $DOM hda --active --pivot --wait
  $V change-media $DOM hdc --eject
  $V change-media $DOM hdc "$IMG/cd2.iso" --insert
  $V blockcopy $DOM hda "$IMG/copy1.qcow2" --wait --pivot
  mk hot1.qcow2 qcow2 1M
  $V attach-disk $DOM "$IMG/hot1.qcow2" vdb --driver qemu --subdriver qcow2 --targetbus virtio --live
  $V detach-disk $DOM vdb --live || true
  $V attach-disk $DOM "$IMG/hot1.qcow2" hdb --driver qemu --subdriver qcow2 --targetbus ide --live || true
}
flow_iothreads() {  # virtio-blk disks in two iothreads
  $V blockcommit $DOM vda --active --pivot --wait
  $V blockcopy $DOM vdb "$IMG/copy1.qcow2" --wait --pivot
  $V snapshot-create-as $DOM --disk-only --no-metadata --atomic --diskspec vda,file="$IMG/snap1.qcow2" \
    --diskspec vdb,file="$IMG/snap2.qcow2" --diskspec sda,snapshot=no --diskspec sdb,snapshot=no
  mk hot1.qcow2 qcow2 1M
  $V attach-disk $DOM "$IMG/hot1.qcow2" vdc --driver qemu --subdriver qcow2 --targetbus virtio --iothread 2 --live
  $V detach-disk $DOM vdc --live || true
}
# the new flows on the first round's machine
flow_jobs() {       # blockcommit --shallow/--keep-relative, blockjob --bandwidth/--bytes
  # (no --bandwidth here: a limited commit with nothing to copy still yields to the main loop at
  # every chunk (commit_run's job_sleep_ns(0)), so whether it has ended when the recorder takes
  # the graph after the reply is timing; the limit goes on the active commits below)
  $V blockcommit $DOM vda --top "$IMG/mid.qcow2" --base "$IMG/base.qcow2" --shallow --keep-relative --wait
  $V blockcommit $DOM vda --active --shallow --keep-relative
  for _ in $(seq 50); do $V blockjob $DOM vda --info 2>&1 | grep -q '\[100' && break; sleep 0.2; done
  $V blockjob $DOM vda --bandwidth 2097152 --bytes
  $V blockjob $DOM vda --info --bytes
  $V blockjob $DOM vda --pivot
  $V blockcommit $DOM sda --active --bandwidth 1
  for _ in $(seq 50); do $V blockjob $DOM sda --info 2>&1 | grep -q '\[100' && break; sleep 0.2; done
  $V blockjob $DOM sda --bandwidth 3
  $V blockjob $DOM sda --abort
  $V domblklist $DOM
}
flow_copy2() {      # blockcopy --shallow --reuse-external, --transient-job, --synchronous-writes, --bytes
  mk copy1.qcow2 qcow2 1M mid.qcow2
  $V blockcopy $DOM vda "$IMG/copy1.qcow2" --shallow --reuse-external --format qcow2 --transient-job --wait --pivot
  $V blockcopy $DOM sda "$IMG/copy2.qcow2" --synchronous-writes --bandwidth 4194304 --bytes --transient-job --wait --finish
  $V blockcopy $DOM sda "$IMG/copy3.qcow2" --shallow --synchronous-writes --wait
  $V blockjob $DOM sda --bandwidth 1
  $V blockjob $DOM sda --pivot
  $V domblklist $DOM
}
flow_pull() {       # blockpull: the recorder skips its graph query in the concluded-not-dismissed window
  $V blockpull $DOM vda --base "$IMG/base.qcow2" --wait
  $V blockpull $DOM vda --wait
  $V blockpull $DOM sda --wait
  $V domblklist $DOM
}
flow_backup2() {    # two checkpoints, a push backup incremental from the first, checkpoint-delete merges
  $V checkpoint-create-as $DOM ck1 --diskspec vda,checkpoint=bitmap --diskspec sda,checkpoint=bitmap --diskspec sdb,checkpoint=no
  $V checkpoint-create-as $DOM ck2 --diskspec vda,checkpoint=bitmap --diskspec sda,checkpoint=bitmap --diskspec sdb,checkpoint=no
  cat > "$OUT/push2.xml" <<EOF
<domainbackup>
  <incremental>ck1</incremental>
  <disks>
    <disk name='vda' type='file'><target file='$IMG/bk1.qcow2'/><driver type='qcow2'/></disk>
    <disk name='sda' type='file'><target file='$IMG/bk2.qcow2'/><driver type='qcow2'/></disk>
    <disk name='sdb' backup='no'/>
  </disks>
</domainbackup>
EOF
  cat > "$OUT/ck3.xml" <<EOF
<domaincheckpoint><name>ck3</name><disks><disk name='vda' checkpoint='bitmap'/><disk name='sda' checkpoint='bitmap'/><disk name='sdb' checkpoint='no'/></disks></domaincheckpoint>
EOF
  $V backup-begin $DOM "$OUT/push2.xml" "$OUT/ck3.xml"
  for _ in $(seq 50); do $V domjobinfo $DOM | grep -q 'Job type: *None' && break; sleep 0.2; done
  $V checkpoint-list $DOM
  $V checkpoint-delete $DOM ck2
  $V checkpoint-delete $DOM ck1
  $V checkpoint-delete $DOM ck3
  $V domblkerror $DOM || true
  $V domblkthreshold $DOM sda 500000
  $V domblkthreshold $DOM sda 0
}

SESSIONS2="cor iotune rosh slice discard cache io errpol luks nbd sata pc iothreads jobs copy2 backup2"
SESSIONS=${*:-commit copy snapshot media hotplug backup runstate iothread edges refusals pull}
[ "$SESSIONS" = round2 ] && SESSIONS="$SESSIONS2 pull"
for s in $SESSIONS; do
  CUR=$s
  VDA_IO=; VDA_EXTRA=; SCSI_IO=; EXTRA=; DISKS=; MACHINE=; IOTHREADS=; CDBUS=; CDDEV=
  # two more empty root ports: libvirt 9.0 adds none on hotplug ("No more available PCI slots")
  [ "$s" = edges ] && EXTRA="<controller type='pci' index='5' model='pcie-root-port'/><controller type='pci' index='6' model='pcie-root-port'/>"
  [ "$s" = iothread ] && { VDA_IO=" iothread='1'"; SCSI_IO="<driver iothread='1'/>"; }
  images
  # round 2's shapes
  case $s in
    cor) VDA_IO=" copy_on_read='on'" ;;
    iotune)
      mk hot1.qcow2 qcow2 1M
      VDA_EXTRA="<iotune><total_iops_sec>100</total_iops_sec><group_name>g1</group_name></iotune>"
      DISKS=$(disk vdb virtio hot1.qcow2 qcow2 "" "<iotune><total_iops_sec>100</total_iops_sec><group_name>g1</group_name></iotune>") ;;
    rosh)
      mk ro.qcow2 qcow2 1M; mk sh.raw raw 1M
      DISKS=$(disk vdb virtio ro.qcow2 qcow2 "" "<readonly/>")$(disk vdc virtio sh.raw raw " cache='none'" "<shareable/>") ;;
    slice)
      mk sl.raw raw 2M
      DISKS=$(printf "\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='%s'><slices><slice type='storage' offset='524288' size='1048576'/></slices></source>\n      <target dev='vdb' bus='virtio'/>\n    </disk>" "$IMG/sl.raw") ;;
    discard) VDA_IO=" discard='unmap' detect_zeroes='unmap'" ;;
    cache)
      mk c1.raw raw 1M; mk c2.qcow2 qcow2 1M; mk c3.qcow2 qcow2 1M
      DISKS=$(disk vdb virtio c1.raw raw " cache='none'")$(disk vdc virtio c2.qcow2 qcow2 " cache='unsafe'")$(disk vdd virtio c3.qcow2 qcow2 " cache='directsync'") ;;
    io)
      mk n1.raw raw 1M; mk t1.qcow2 qcow2 1M
      DISKS=$(disk vdb virtio n1.raw raw " cache='none' io='native'")$(disk vdc virtio t1.qcow2 qcow2 " io='threads'") ;;
    errpol)
      VDA_IO=" error_policy='stop' rerror_policy='report'"
      DISKS=$(disk sdc scsi sbase.qcow2 qcow2 " error_policy='enospace' rerror_policy='ignore'" "<readonly/>") ;;
    luks)
      # the capture's own passphrase; libvirt hands QEMU the secret AES-encrypted with its master key
      (cd "$IMG" && qemu-img create -q -f qcow2 --object secret,id=sec0,data=blockgraph -o encrypt.format=luks,encrypt.key-secret=sec0 luks.qcow2 1M)
      printf '{"file":"luks.qcow2","format":"qcow2","size":"1M","encrypt":"luks","passphrase":"blockgraph"}\n' >> "$OUT/$CUR.images.jsonl"
      cat > "$OUT/secret.xml" <<EOF
<secret ephemeral='no' private='no'><uuid>8e4e5e1a-0b39-4c1b-9d0e-5d3f3b2b6a11</uuid><usage type='volume'><volume>$IMG/luks.qcow2</volume></usage></secret>
EOF
      $V secret-define "$OUT/secret.xml" >/dev/null
      printf blockgraph > "$OUT/passphrase"; $V secret-set-value 8e4e5e1a-0b39-4c1b-9d0e-5d3f3b2b6a11 --file "$OUT/passphrase" --plain >/dev/null
      DISKS=$(printf "\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='%s'><encryption format='luks'><secret type='passphrase' uuid='8e4e5e1a-0b39-4c1b-9d0e-5d3f3b2b6a11'/></encryption></source>\n      <target dev='vdb' bus='virtio'/>\n    </disk>" "$IMG/luks.qcow2") ;;
    nbd)
      mk nbd.qcow2 qcow2 1M
      qemu-nbd -k "$IMG/nbd.sock" -f qcow2 -x disk0 --persistent --fork --pid-file "$OUT/qemu-nbd.pid" "$IMG/nbd.qcow2"
      DISKS=$(printf "\n    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source protocol='nbd' name='disk0'><host transport='unix' socket='%s'/></source>\n      <target dev='vdb' bus='virtio'/>\n    </disk>" "$IMG/nbd.sock") ;;
    sata)
      DISKS=$(printf "\n    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <target dev='sdc' bus='sata'/>\n      <readonly/>\n    </disk>") ;;
    pc)
      MACHINE=pc; CDBUS=ide; CDDEV=hdc
      mk ide.qcow2 qcow2 1M
      DISKS=$(disk hda ide ide.qcow2 qcow2) ;;
    iothreads)
      IOTHREADS=2; VDA_IO=" iothread='1'"
      mk v2.qcow2 qcow2 1M
      DISKS=$(disk vdb virtio v2.qcow2 qcow2 " iothread='2'") ;;
  esac
  $V destroy $DOM >/dev/null 2>&1 || true
  domain_xml > "$OUT/$s.xml"
  start=$(stat -c %s "$LOG")
  : > /var/log/libvirt/qemu/$DOM.log
  $V create "$OUT/$s.xml" --paused >/dev/null
  echo "== $s"
  set +e; ( set -e; "flow_$s" ) 2>&1 | sed 's/^/  /'; rc=${PIPESTATUS[0]}; set -e
  $V destroy $DOM >/dev/null 2>&1 || true
  # the NBD server this session started, and the LUKS session's secret
  [ "$s" = nbd ] && [ -f "$OUT/qemu-nbd.pid" ] && kill "$(cat "$OUT/qemu-nbd.pid")" 2>/dev/null || true
  [ "$s" = luks ] && $V secret-undefine 8e4e5e1a-0b39-4c1b-9d0e-5d3f3b2b6a11 >/dev/null 2>&1 || true
  sleep 0.5
  tail -c +$((start + 1)) "$LOG" > "$OUT/$s.monitor"
  grep -m1 -- '-blockdev\|/usr/bin/qemu-system' /var/log/libvirt/qemu/$DOM.log >/dev/null
  sed -n '/qemu-system-x86_64/,/^-msg\|msg timestamp/p' /var/log/libvirt/qemu/$DOM.log > "$OUT/$s.cmdline"
  echo "   flow exit $rc; $(grep -c QEMU_MONITOR_SEND_MSG "$OUT/$s.monitor") monitor commands"
done
