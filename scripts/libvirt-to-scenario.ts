// Turns one session captured by scripts/libvirt-capture.sh (libvirt's QEMU command line and its
// monitor log) into a vm scenario (docs/vm.md "libvirt's own traffic"):
//
//   node --import tsx scripts/libvirt-to-scenario.ts CAPTURE_DIR SESSION [--out FILE] [--description TEXT] [--round 2]
//
// (`--round 2`: the second round's sessions, named vm-lv2-SESSION; docs/vm.md "libvirt's own traffic, round 2")
//
// - the machine: libvirt's -object iothread, pcie-root-port, virtio-scsi-pci, -blockdev and the
//   block -device lines, as the scenario's `vm` member (other devices, e.g. qemu-xhci, dropped),
//   with ACPI PCI hotplug kept on as libvirt's q35 has it (`acpi-pci-hotplug`);
// - the steps: every QMP command libvirt sent, in order, with its exact arguments, keeping the
//   block layer (blockdev-*, block-*, block_*, transaction, job-*, device_add/del, media, NBD,
//   stop/cont and the block queries) and dropping the rest (qom-*, query-cpus-fast, migration…);
// - a `wait` before a command for every job that reached a settled status (ready, pending,
//   concluded, paused, aborting) since the previous command: libvirt saw that event before it went
//   on, so the recorder waits for the same status (whether QEMU sent it before or after the
//   command's reply is timing);
// - paths below the capture's image directory become the scenario's relative image names; the
//   images the capture made with qemu-img are declared as such, and a file libvirt created itself
//   (it makes an empty file, then blockdev-create formats it) as an empty raw image.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const out = flag('--out');
const description = flag('--description');
const round = flag('--round') ?? '1';
const [dir0, session] = args;
if (!dir0 || !session) {
  console.error('usage: libvirt-to-scenario.ts CAPTURE_DIR SESSION [--out FILE] [--description TEXT] [--round 2]');
  process.exit(2);
}
const dir = resolve(dir0);
const imgDir = join(dir, 'img') + '/';

const rel = (v: Json): Json => {
  if (typeof v === 'string') return v.split(imgDir).join('').split(dir + '/').join('');
  if (Array.isArray(v)) return v.map(rel);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rel(x)]));
  return v;
};

// What each session of scripts/libvirt-capture.sh drives (the scenario's description).
const DESCRIPTIONS: Record<string, string> = {
  backup:
    "libvirt 9.0 (virsh): checkpoint-create-as (a persistent bitmap in a transaction), backup-begin push mode (blockdev-create of the target, transaction blockdev-backup sync full), backup-begin pull mode incremental from the checkpoint (scratch overlay over the disk, NBD server on a unix socket, bitmap merge, blockdev-backup sync none, block-export-add with the bitmap), domjobabort (forced cancel, nbd-server-stop), checkpoint-delete; libvirt's exact QMP",
  commit:
    "libvirt 9.0 (virsh, captured by scripts/libvirt-capture.sh): blockcommit --shallow --keep-relative of mid into base under the virtio-blk disk (backing-file given), active blockcommit --pivot (libvirt's tmp activewrite bitmap on base, job-complete, dismiss, blockdev-del of the old top), then an active commit on the scsi-hd left ready, blockjob --info and --abort (block-job-cancel completes it without a pivot); libvirt's exact QMP, its block commands only",
  copy:
    "libvirt 9.0 (virsh): blockcopy --pivot of the virtio-blk disk into a file libvirt creates (blockdev-create qcow2, blockdev-mirror sync full, job-complete), blockcopy --shallow --reuse-external --finish of the scsi-hd onto a pre-made overlay of its base (sync top, block-job-cancel after ready), a shallow copy left ready then blockjob --abort; libvirt's exact QMP",
  hotplug:
    "libvirt 9.0 (virsh): attach-disk of a qcow2 as virtio-blk with iothread=iothread1 on a root port and as scsi-hd on the virtio-scsi controller, domblkstat, detach-disk of both (device_del, then libvirt's blockdev-del of the nodes once DEVICE_DELETED came); libvirt's exact QMP",
  media:
    "libvirt 9.0 (virsh): change-media of the sata CD-ROM (ide-cd): --eject, --insert, --update, --eject --force, domblkinfo of the empty drive, --insert again (blockdev-open-tray / remove-medium / insert-medium / close-tray by the device's id, blockdev-add and blockdev-del of the media nodes); libvirt's exact QMP",
  runstate:
    "libvirt 9.0 (virsh): resume, blockcommit of mid, suspend, active blockcommit --pivot of the scsi-hd while paused, resume, blockresize, suspend (cont / stop around block jobs); libvirt's exact QMP",
  snapshot:
    "libvirt 9.0 (virsh): snapshot-create-as --disk-only --no-metadata of the virtio-blk disk (blockdev-create of the overlay, transaction blockdev-snapshot), the same --atomic over the virtio-blk and scsi-hd disks, blockresize, domblkinfo, domblkstat, blkdeviotune set/query/reset with a group on the scsi-hd; libvirt's exact QMP",
  iothread:
    "libvirt 9.0 (virsh), the virtio-blk disk (iothread='1') and the virtio-scsi controller in iothread1: active blockcommit --pivot and blockcopy --pivot of the scsi-hd in the iothread, attach-disk of a scsi-hd, an --atomic disk-only snapshot over it and the virtio-blk disk, blkdeviotune, detach-disk, attach-disk of a scsi-cd with a medium, change-media --eject (libvirt 9.0 sends no blockdev-open-tray for a hot-plugged CD-ROM: QEMU answers 'Tray of device \u2026 is not open'), detach-disk of the CD-ROM (the scsi-cd BlockBackend leak), active blockcommit --pivot of the virtio-blk disk; libvirt's exact QMP",
  edges:
    "libvirt 9.0 (virsh) at the edges: attach-disk on sata (QEMU: Bus 'ide.2' does not support hotplugging; libvirt deletes the nodes again), a shareable raw virtio-blk (share-rw, cache.direct, write-cache) and a read-only qcow2 one on two more root ports, blockresize shrinking the qcow2 disk, domblkthreshold (block-set-write-threshold on the file node), active blockcommit then blockjob --pivot, blockcopy --synchronous-writes --pivot (copy-mode write-blocking), blockcopy --granularity --buf-size then --abort, a disk-only snapshot, detach-disk of both hot-plugged disks; libvirt's exact QMP",
  refusals:
    "libvirt 9.0 (virsh) where QEMU refuses (no lock manager: QEMU's image locks are the guard): attach-disk of the disk's own top image and of its backing base read-write (blockdev-add: Failed to get \"write\" lock; libvirt deletes the nodes it added), attach-disk of the scsi disk's base read-only (shared), snapshot-create-as --reuse-external onto a pre-made overlay, blockcopy --shallow --reuse-external --pivot onto a smaller image (the mirror job ends in an error, libvirt dismisses it), blockresize to 4 MiB then active blockcommit --pivot into the 1 MiB base; libvirt's exact QMP",
};

// Round 2 (scripts/libvirt-capture.sh round2): new domain shapes, then new flows.
const DESCRIPTIONS2: Record<string, string> = {
  cor: "libvirt 9.0 (virsh), a virtio-blk disk with <driver copy_on_read='on'> (libvirt's copy-on-read filter node libvirt-CoR-vda over the qcow2 chain): domblklist, active blockcommit --pivot, a disk-only snapshot, blockcopy --pivot, domblkinfo; libvirt's exact QMP",
  iotune: "libvirt 9.0 (virsh), two virtio-blk disks with <iotune> in group g1 (block_set_io_throttle at start-up): blkdeviotune query, moving the second disk to its own limits and to group g2, clearing the first's, detach-disk of the second; libvirt's exact QMP",
  rosh: "libvirt 9.0 (virsh), a <readonly/> qcow2 virtio-blk disk and a <shareable/> raw one with cache='none' (share-rw, cache.direct): domblkinfo, blockcopy of the shareable disk (libvirt refuses it itself), a disk-only snapshot of the read-only disk, detach-disk of both; libvirt's exact QMP",
  slice: "libvirt 9.0 (virsh), a raw virtio-blk disk on a storage slice (<slices><slice type='storage' offset= size=>: the raw node's offset and size): domblkinfo, blockresize (QEMU: Cannot resize fixed-size raw disks), blockcopy --pivot of the slice into a plain raw file; libvirt's exact QMP",
  discard: "libvirt 9.0 (virsh), the virtio-blk disk with discard='unmap' detect_zeroes='unmap': blockcopy --pivot, a disk-only snapshot, active blockcommit --pivot (libvirt carries both options to every new node); libvirt's exact QMP",
  cache: "libvirt 9.0 (virsh), virtio-blk disks with cache='none' (raw), 'unsafe' and 'directsync' (qcow2): the nodes' cache.direct / cache.no-flush and the devices' write-cache; an --atomic disk-only snapshot over the three, active blockcommit --pivot, blockcopy --pivot; libvirt's exact QMP",
  io: "libvirt 9.0 (virsh), virtio-blk disks with io='native' (cache='none') and io='threads' (the file nodes' aio): domblkinfo, a disk-only snapshot over both, active blockcommit --pivot, attach-disk --cache none --io native; libvirt's exact QMP",
  errpol: "libvirt 9.0 (virsh), error_policy='stop' rerror_policy='report' on the virtio-blk disk and enospace/ignore on a read-only scsi-hd (the devices' werror/rerror): domblkerror, resume, blockcopy --pivot of the scsi-hd while running, suspend; libvirt's exact QMP",
  sata: "libvirt 9.0 (virsh), two sata CD-ROMs (ide-cd), one empty: change-media --insert on the empty one, update-device of the other with a new source, update-device of the first without a source (eject), change-media --eject; libvirt's exact QMP",
  iothreads: "libvirt 9.0 (virsh), two iothreads and virtio-blk disks with <driver iothread='1'> and iothread='2': active blockcommit --pivot, blockcopy --pivot, an --atomic disk-only snapshot over both, attach-disk --iothread 2 and detach-disk; libvirt's exact QMP",
  jobs: "libvirt 9.0 (virsh), the first round's machine: blockcommit --shallow --keep-relative of mid (backing-file given), an active --shallow --keep-relative commit, blockjob --bandwidth --bytes (block-job-set-speed) and --info and --pivot, an active commit with --bandwidth, blockjob --bandwidth and --abort; libvirt's exact QMP",
  copy2: "libvirt 9.0 (virsh), the first round's machine: blockcopy --shallow --reuse-external --transient-job --pivot, blockcopy --synchronous-writes --bandwidth --bytes --transient-job --finish, a --shallow --synchronous-writes copy, blockjob --bandwidth and --pivot; libvirt's exact QMP",
  pull: "libvirt 9.0 (virsh), the first round's machine: blockpull --base of the virtio-blk chain, blockpull of the rest, blockpull of the scsi-hd (block-stream with auto-dismiss false, query-jobs, job-dismiss, blockdev-del of the pulled layers; the steps between a stream's conclusion and its dismissal have no graph: oracle/harness.ts snapshotGraph); libvirt's exact QMP",
  pc: "libvirt 9.0 (virsh), an i440fx (pc) machine without ACPI (libvirt's -no-acpi) with an IDE disk (ide-hd on ide.0) and an IDE CD-ROM (ide-cd on ide.1), virtio devices on pci.0: domblkinfo, a disk-only snapshot and active blockcommit --pivot of the IDE disk, change-media --eject/--insert of the CD-ROM, blockcopy --pivot, attach-disk of a virtio disk (QEMU: Bus 'pci.0' does not support hotplugging; libvirt deletes the nodes again); libvirt's exact QMP",
  backup2: "libvirt 9.0 (virsh), the first round's machine: two checkpoints over two disks, a push backup incremental from the first with a third checkpoint made by it, checkpoint-delete of the middle and the first (libvirt merges the bitmaps into the next: block-dirty-bitmap-merge in a transaction), domblkerror, domblkthreshold set and clear; libvirt's exact QMP",
};

// ---- the command line ----------------------------------------------------------------------------
const cmdline = readFileSync(join(dir, `${session}.cmdline`), 'utf8');
const opts: { opt: string; json: Obj }[] = [];
for (const m of cmdline.matchAll(/^-(object|device|blockdev) '(\{.*\})'/gm)) opts.push({ opt: m[1], json: JSON.parse(m[2]) as Obj });
const iothreads: string[] = [];
const rootPorts: string[] = [];
const scsi: { id: string; iothread?: string }[] = [];
const blockdevs: Obj[] = [];
const devices: Obj[] = [];
const BLOCK_DEVICES = new Set(['virtio-blk-pci', 'scsi-hd', 'scsi-cd', 'ide-hd', 'ide-cd', 'scsi-block']);
for (const { opt, json } of opts) {
  if (opt === 'object' && json['qom-type'] === 'iothread') iothreads.push(String(json.id));
  else if (opt === 'blockdev') blockdevs.push(rel(json) as Obj);
  else if (opt === 'device' && json.driver === 'pcie-root-port') rootPorts.push(String(json.id));
  else if (opt === 'device' && json.driver === 'virtio-scsi-pci') {
    scsi.push(json.iothread ? { id: String(json.id), iothread: String(json.iothread) } : { id: String(json.id) });
  } else if (opt === 'device' && BLOCK_DEVICES.has(String(json.driver))) devices.push(rel(json) as Obj);
}

// ---- the monitor ---------------------------------------------------------------------------------
const KEEP = /^(blockdev-|block-|block_|x-blockdev-|transaction$|job-|query-block$|query-named-block-nodes$|query-blockstats$|query-block-jobs$|query-jobs$|query-block-exports$|device_add$|device_del$|eject$|nbd-server-|stop$|cont$)/;
const POLLS = new Set(['query-block-jobs', 'query-jobs']);
const STABLE = new Set(['ready', 'pending', 'concluded', 'paused', 'aborting']);
type Entry = { kind: 'send'; msg: Obj } | { kind: 'reply'; msg: Obj } | { kind: 'event'; msg: Obj };
const entries: Entry[] = [];
for (const line of readFileSync(join(dir, `${session}.monitor`), 'utf8').split('\n')) {
  const m = /QEMU_MONITOR_(SEND_MSG|RECV_REPLY|RECV_EVENT): mon=\S+ (?:msg|reply|event)=(.*?)\r?$/.exec(line);
  if (!m) continue;
  let body = m[2];
  if (m[1] === 'SEND_MSG') body = body.replace(/ fd=-?\d+$/, '');
  const kind = m[1] === 'SEND_MSG' ? 'send' : m[1] === 'RECV_REPLY' ? 'reply' : 'event';
  entries.push({ kind, msg: JSON.parse(body) as Obj });
}
const steps: Obj[] = [];
const dropped = new Map<string, number>();
// a job's last status since the previous kept command was sent (whether QEMU reached it before or
// after that command's reply: which of the two it is depends on timing, so both wait)
let seen = new Map<string, string>();
for (const e of entries) {
  if (e.kind === 'reply') continue;
  if (e.kind === 'event') {
    if (e.msg.event === 'JOB_STATUS_CHANGE') {
      const d = e.msg.data as Obj;
      seen.set(String(d.id), String(d.status));
    }
    continue;
  }
  const cmd = String(e.msg.execute);
  if (cmd === 'qmp_capabilities' || !KEEP.test(cmd)) {
    dropped.set(cmd, (dropped.get(cmd) ?? 0) + 1);
    continue;
  }
  const waits = [...seen].filter(([, status]) => STABLE.has(status)).map(([job, status]) => ({ wait: { job, status } }));
  // virsh's --wait loops poll query-block-jobs until the job settles: how many polls saw it still
  // running is timing (a 1 MiB mirror turns ready during the first poll on 7.2, after it on 10.0),
  // so the recorder waits before the polls and then sends them all
  let at = steps.length;
  while (waits.length && at > 0 && POLLS.has(String(steps[at - 1].execute))) at--;
  steps.splice(at, 0, ...waits);
  seen = new Map();
  const step: Obj = { execute: cmd };
  if (e.msg.arguments !== undefined) step.arguments = rel(e.msg.arguments);
  steps.push(step);
}

// ---- the images ----------------------------------------------------------------------------------
// The images the capture made with qemu-img (scripts/libvirt-capture.sh `mk`), as it made them.
const made = readFileSync(join(dir, `${session}.images.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Obj);
const images: Obj[] = made.map((i) => rel(i) as Obj);
const known = new Set(images.map((i) => String(i.file)));
const used = new Set<string>();
const walk = (v: Json): void => {
  if (Array.isArray(v)) v.forEach(walk);
  else if (v && typeof v === 'object') {
    if (v.driver === 'file' && typeof v.filename === 'string') used.add(v.filename);
    Object.values(v).forEach(walk);
  }
};
walk(blockdevs as Json);
walk(steps as Json);
for (const f of used) if (!known.has(f) && !f.startsWith('/')) images.push({ file: f, format: 'raw', size: '0' });

const vm: Obj = { version: 1 };
if (iothreads.length) vm.iothreads = iothreads;
if (rootPorts.length) vm['root-ports'] = rootPorts;
if (scsi.length) vm['scsi-controllers'] = scsi as Json;
vm.blockdevs = blockdevs;
vm.devices = devices;
// the domain's command line keeps QEMU's default ACPI PCI hotplug on q35 (no
// -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off): root-port devices unplug through the guest
// libvirt's machine='pc' (-machine pc-i440fx-7.2, with -no-acpi: pci.0 without hotplug, PIIX3 IDE)
const pc = /^-machine pc-i440fx/m.test(cmdline);
if (pc) vm.machine = 'pc';
if (pc && /^-no-acpi/m.test(cmdline)) vm.acpi = false;
else if (!/ICH9-LPC\.acpi-pci-hotplug-with-bridge-support=off/.test(cmdline)) vm['acpi-pci-hotplug'] = true;
const scenario = {
  name: `vm-lv${round === '1' ? '' : round}-${session.replace(/_/g, '-')}`,
  description: description ?? (round === '1' ? DESCRIPTIONS[session] : DESCRIPTIONS2[session]) ?? `libvirt 9.0's own QMP traffic for the ${session} session (scripts/libvirt-capture.sh)`,
  covers: ['vm-libvirt'],
  images,
  vm,
  steps,
};
const text = JSON.stringify(scenario, null, 2) + '\n';
if (out) writeFileSync(out, text);
else process.stdout.write(text);
console.error(`${session}: ${steps.length} steps (${steps.filter((s) => 'wait' in s).length} waits); dropped ${[...dropped].map(([c, n]) => `${c}×${n}`).join(', ')}`);
