// HMP lines through human-monitor-command (monitor/hmp.c handle_hmp_command, 7.2 and 10.0): the
// line's first word names a command of hmp-commands.hx, monitor_parse_arguments reads its
// arguments by the command's args_type, and the handler (block/monitor/block-hmp-cmds.c,
// monitor/hmp-cmds.c, softmmu/qdev-monitor.c, qom/qom-hmp-cmds.c) calls the QMP command's
// function. An error is printed (hmp_handle_error: "Error: …", error_report) and the QMP
// human-monitor-command itself succeeds; what the inner command did before failing is undone as
// the QMP command's own failure would be. A transcript compares the outcome, events and graph,
// never the printed text.
import { QmpErrorAfterAbort } from '../../graph/abort-residue.js';
import { QmpError, QmpErrorWithHint } from '../../errors/index.js';
import { QemuAbortRefusal } from '../../graph/qemu-abort.js';
import type { Proc } from '../../graph/proc.js';
import { COMMANDS } from '../registry.js';
import type { CommandCtx } from '../types.js';
import { addDevice } from './device-add.js';
import { device } from '../../graph/devices/ops.js';
import { hmpQemuIo } from './hmp-qemu-io.js';
import { blkByName } from '../../graph/named-blk.js';
import { hmpCommit, hmpDriveAdd, hmpDriveDel } from './drive-add.js';
import { hmpInfoBlock, hmpInfoBlockJobs, hmpInfoBlockstats, hmpInfoSnapshots } from './hmp-info.js';

/** hmp-commands.hx's command names (7.2 and 10.0 alike but for singlestep/one-insn-per-tb and 10.0's xen-event-*): anything else is "unknown command". */
const HMP_NAMES = new Set((
  'help ? commit quit q exit_preconfig block_resize block_stream block_job_set_speed block_job_cancel block_job_complete ' +
  'block_job_pause block_job_resume eject drive_del change screendump logfile trace-event trace-file log savevm loadvm delvm ' +
  'singlestep one-insn-per-tb stop s cont c system_wakeup gdbserver x xp gpa2hva gpa2hpa gva2gpa print p i o sendkey sync-profile ' +
  'system_reset system_powerdown sum device_add device_del cpu mouse_move mouse_button mouse_set wavcapture stopcapture memsave ' +
  'pmemsave boot_set nmi ringbuf_write ringbuf_read announce_self migrate migrate_cancel migrate_continue migrate_incoming ' +
  'migrate_recover migrate_pause migrate_set_capability migrate_set_parameter migrate_start_postcopy x_colo_lost_heartbeat ' +
  'client_migrate_info dump-guest-memory dump-skeys migration_mode snapshot_blkdev snapshot_blkdev_internal ' +
  'snapshot_delete_blkdev_internal drive_mirror drive_backup drive_add pcie_aer_inject_error netdev_add netdev_del object_add ' +
  'object_del hostfwd_add hostfwd_remove balloon set_link watchdog_action nbd_server_start nbd_server_add nbd_server_remove ' +
  'nbd_server_stop mce getfd closefd block_set_io_throttle set_password expire_password chardev-add chardev-change ' +
  'chardev-remove chardev-send-break qemu-io qom-list qom-get qom-set replay_break replay_delete_break replay_seek ' +
  'calc_dirty_rate set_vcpu_dirty_limit cancel_vcpu_dirty_limit info dumpdtb xen-event-inject xen-event-list').split(' '));

/** The aliases of hmp-commands.hx's `.name = "a|b"`. */
const ALIAS: Record<string, string> = { s: 'stop', c: 'cont', '?': 'help', q: 'quit', p: 'print' };

/**
 * The args_type of each modelled command (hmp-commands.hx): `name:T` with T `-x` a flag,
 * `B`/`s`/`F` a word, `o` a size with suffix, `l`/`i` an integer, `O` QemuOpts text, `S` the
 * rest of the line; `?` optional.
 */
const ARGS: Record<string, string> = {
  commit: 'device:B',
  block_resize: 'device:B,size:o',
  block_stream: 'device:B,speed:o?,base:s?',
  block_job_set_speed: 'device:B,speed:o',
  block_job_cancel: 'force:-f,device:B',
  block_job_complete: 'device:B',
  block_job_pause: 'device:B',
  block_job_resume: 'device:B',
  eject: 'force:-f,device:B',
  drive_del: 'id:B',
  drive_add: 'node:-n,pci_addr:s,opts:s',
  'qemu-io': 'qdev:-d,device:B,command:s',
  change: 'device:B,force:-f,target:F,arg:s?,read-only-mode:s?',
  stop: '',
  cont: '',
  system_reset: '',
  device_add: 'device:O',
  device_del: 'id:s',
  snapshot_blkdev: 'reuse:-n,device:B,snapshot-file:s?,format:s?',
  snapshot_blkdev_internal: 'device:B,name:s',
  snapshot_delete_blkdev_internal: 'device:B,name:s,id:s?',
  drive_mirror: 'reuse:-n,full:-f,device:B,target:s,format:s?',
  drive_backup: 'reuse:-n,full:-f,compress:-c,device:B,target:s,format:s?',
  object_add: 'object:S',
  object_del: 'id:s',
  nbd_server_start: 'all:-a,writable:-w,uri:s',
  nbd_server_add: 'writable:-w,device:B,name:s?',
  nbd_server_remove: 'force:-f,name:s',
  nbd_server_stop: '',
  block_set_io_throttle: 'device:B,bps:l,bps_rd:l,bps_wr:l,iops:l,iops_rd:l,iops_wr:l',
};

/** A monitor_parse_arguments failure: its printed line (handle_hmp_command then adds "Try help"). */
class HmpParseError extends Error {}

/** get_str: a word up to white space, or a "quoted" string with \\ escapes; undefined where it fails. */
function word(line: { rest: string }): string | undefined {
  const s = line.rest.replace(/^\s+/, '');
  if (s === '') return undefined;
  if (s[0] === '"') {
    let out = '';
    let i = 1;
    for (; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\' && i + 1 < s.length) { i++; out += s[i] === 'n' ? '\n' : s[i]; } else out += s[i];
    }
    if (i >= s.length) return undefined;
    line.rest = s.slice(i + 1);
    return out;
  }
  const m = /^\S+/.exec(s)!;
  line.rest = s.slice(m[0].length);
  return m[0];
}

/**
 * monitor_parse_arguments' 'o': qemu_strtosz_MiB at the line as it stands (a number, an optional
 * fraction and k/M/G/T/P/E/b suffix; no suffix is MiB), the line going on where the number ended.
 */
function size(line: { rest: string }): number {
  const s = line.rest.replace(/^\s+/, '');
  const m = /^(\d+(?:\.\d+)?)([bkmgtpeBKMGTPE]?)/.exec(s);
  if (!m) throw new HmpParseError('invalid size');
  const mult: Record<string, number> = { '': 2 ** 20, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };
  const v = Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
  if (v > Number.MAX_SAFE_INTEGER) throw new HmpParseError('invalid size');
  line.rest = s.slice(m[0].length);
  return v;
}

/** get_expr for 'l'/'i': a number (strtoull base 0) with an optional sign; its two errors. */
function expr(line: { rest: string }): number {
  const s = line.rest.replace(/^\s+/, '');
  if (s === '') throw new HmpParseError('unexpected end of expression');
  const m = /^([-+]?)(0x[0-9a-f]+|\d+)/i.exec(s);
  if (!m) throw new HmpParseError(`invalid char '${s[0]}' in expression`);
  line.rest = s.slice(m[0].length);
  if (line.rest !== '' && !/^\s/.test(line.rest)) throw new HmpParseError(`invalid char '${line.rest[0]}' in expression`);
  return (m[1] === '-' ? -1 : 1) * Number(m[2]);
}

const EXPECTED: Record<string, string> = { F: 'filename', B: 'block device name', s: 'string' };

/** monitor_parse_arguments: the args_type read in order from the raw line; `cmd` names the command in its messages. */
function parseArgs(cmd: string, spec: string, rest: string): Record<string, unknown> {
  const line = { rest };
  const out: Record<string, unknown> = {};
  const items = spec ? spec.split(',') : [];
  items.forEach((item, idx) => {
    const [key, t0] = item.split(':') as [string, string];
    const optional = t0.endsWith('?');
    const t = optional ? t0.slice(0, -1) : t0;
    if (t.startsWith('-')) {
      const s = line.rest.replace(/^\s+/, '');
      if (s[0] !== '-') return;
      const c = s[1] ?? '';
      if (c !== t[1]) {
        // is_valid_option: a later flag of the command takes it; else it is refused
        const later = items.slice(idx + 1).some((it) => it.split(':')[1] === `-${c}`);
        if (!later) throw new HmpParseError(`${cmd}: unsupported option -${c}`);
        return;
      }
      out[key] = true; line.rest = s.slice(2);
      return;
    }
    if (t === 'S') {
      const s = line.rest.replace(/^\s+/, '');
      if (s === '') { if (optional) return; throw new HmpParseError(`${cmd}: string expected`); }
      out[key] = s.replace(/\s+$/, ''); line.rest = '';
      return;
    }
    if (t === 'o') {
      if (optional && line.rest.trim() === '') return;
      out[key] = size(line);
      return;
    }
    if (t === 'l' || t === 'i') {
      if (optional && line.rest.trim() === '') return;
      out[key] = expr(line);
      return;
    }
    if (optional && line.rest.trim() === '') return;
    const w = word(line);
    if (w === undefined) throw new HmpParseError(`${cmd}: ${EXPECTED[t] ?? 'string'} expected`);
    out[key] = w;
  });
  if (line.rest.trim() !== '') throw new HmpParseError(`${cmd}: extraneous characters at the end of line`);
  return out;
}

/** QemuOpts text (qemu_opts_parse with the implied first key): `a=b` pairs, `,,` a comma, a bare key `on`. */
function qemuOptsText(text: string, implied: string): Record<string, string> {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') { cur += ','; i++; } else if (text[i] === ',') { parts.push(cur); cur = ''; } else cur += text[i];
  }
  parts.push(cur);
  const out: Record<string, string> = {};
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) { if (i === 0) out[implied] = part; else out[part] = 'on'; } else out[part.slice(0, eq)] = part.slice(eq + 1);
  });
  return out;
}

/** socket_parse: `unix:PATH`, `fd:N`, `vsock:CID:PORT`, else `[tcp:]HOST:PORT` (as nbd-server-start's SocketAddressLegacy). */
function socketParse(uri: string): Record<string, unknown> {
  if (uri.startsWith('unix:')) return { type: 'unix', data: { path: uri.slice(5) } };
  if (uri.startsWith('fd:')) return { type: 'fd', data: { str: uri.slice(3) } };
  if (uri.startsWith('vsock:')) { const [cid, port] = uri.slice(6).split(':'); return { type: 'vsock', data: { cid, port } }; }
  const s = uri.startsWith('tcp:') ? uri.slice(4) : uri;
  const i = s.lastIndexOf(':');
  if (i < 0) throw new QmpError(`error parsing address '${uri}'`);
  return { type: 'inet', data: { host: s.slice(0, i), port: s.slice(i + 1) } };
}

/** user_creatable_add_from_str → keyval_parse (implied qom-type) → the keyval input visitor: numbers and on/off typed as the properties want. */
export function objectArgs(text: string): Record<string, unknown> {
  const kv = qemuOptsText(text, 'qom-type');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kv)) {
    if (k === 'qom-type' || k === 'id') out[k] = v;
    else if (/^-?\d+$/.test(v)) out[k] = Number(v);
    else if (v === 'on' || v === 'off') out[k] = v === 'on';
    else out[k] = v;
  }
  return out;
}

/** The QMP command a handler calls, as its failure would leave things: undone, its error printed. */
function qmp(ctx: CommandCtx, command: string, args: Record<string, unknown>): string {
  return attempt(ctx.p, () => { COMMANDS.get(command)!.run({ ...ctx, args }); });
}

function attempt(p: Proc, fn: () => void): string {
  try {
    p.d.atomically(fn);
    return '';
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    // the qmp_ function HMP calls leaves what it did before failing as it does under QMP (a
    // residue: qmp_eject's opened tray when the busy medium is refused, media.ts inStages)
    if (e instanceof QmpErrorAfterAbort) p.d.atomically(() => e.residue(p));
    // error_report_err prints the hint after the message (error_append_hint)
    return `Error: ${e.desc}\r\n${e instanceof QmpErrorWithHint ? e.hint.replace(/\n/g, '\r\n') : ''}`;
  }
}

const opt = (args: Record<string, unknown>, key: string, as: string = key): Record<string, unknown> =>
  (args[key] !== undefined ? { [as]: args[key] } : {});

/** error_report_err instead of hmp_handle_error: the same message without "Error: ". */
const reported = (out: string): string => out.replace(/^Error: /, '');

/** The block options bdrv_open reads as booleans (qemu_opt_get_bool / qapi_bool_parse over the QemuOpts strings). */
const BOOL_OPTS = new Set(['read-only', 'auto-read-only', 'force-share', 'cache.direct', 'cache.no-flush']);

/**
 * hmp_drive_add_node: the text as QemuOpts of the drive group (no implied key), qemu_opts_to_qdict,
 * "'node-name' needs to be specified" without one, then bds_tree_init → bdrv_open and
 * bdrv_set_monitor_owned: blockdev-add's open of the same options, the dotted keys as the child
 * options they name, the booleans parsed as bdrv_open's option lists do. Errors by error_report_err.
 */
function driveAddNode(ctx: CommandCtx, text: string): string {
  const flat = qemuOptsText(text, '');
  if (flat['node-name'] === undefined) return "'node-name' needs to be specified\r\n";
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    const val: unknown = BOOL_OPTS.has(k.split('.').slice(-2).join('.')) || BOOL_OPTS.has(k.split('.').pop()!)
      ? (['on', 'yes', 'true'].includes(v) ? true : ['off', 'no', 'false'].includes(v) ? false : v) : v;
    const path = k.split('.');
    let o = args;
    path.slice(0, -1).forEach((c) => { o[c] = typeof o[c] === 'object' && o[c] !== null ? o[c] : {}; o = o[c] as Record<string, unknown>; });
    o[path[path.length - 1]!] = val;
  }
  return reported(qmp(ctx, 'blockdev-add', args));
}

/** Each handler: the QMP function it calls with the arguments it builds (block-hmp-cmds.c unless said). */
const HANDLERS: Record<string, (ctx: CommandCtx, a: Record<string, unknown>) => string | undefined> = {
  // hmp_commit: "all" is blk_commit_all over every BlockBackend, a name is blk_by_name's drive
  commit: (ctx, a) => hmpCommit(ctx, String(a.device)),
  block_resize: (ctx, a) => qmp(ctx, 'block_resize', { device: a.device, size: a.size }),
  // hmp_block_stream: the device name is the job id too
  block_stream: (ctx, a) => qmp(ctx, 'block-stream', { 'job-id': a.device, device: a.device, ...opt(a, 'base'), ...opt(a, 'speed'), 'on-error': 'report' }),
  block_job_set_speed: (ctx, a) => qmp(ctx, 'block-job-set-speed', { device: a.device, speed: a.speed }),
  block_job_cancel: (ctx, a) => qmp(ctx, 'block-job-cancel', { device: a.device, force: a.force === true }),
  block_job_complete: (ctx, a) => qmp(ctx, 'block-job-complete', { device: a.device }),
  block_job_pause: (ctx, a) => qmp(ctx, 'block-job-pause', { device: a.device }),
  block_job_resume: (ctx, a) => qmp(ctx, 'block-job-resume', { device: a.device }),
  eject: (ctx, a) => qmp(ctx, 'eject', { device: a.device, force: a.force === true }),
  // hmp_drive_del: a node name is blockdev-del's (its error by error_report_err: no "Error: ");
  // else blk_by_name's drive (commands/vm/drive-add.ts)
  drive_del: (ctx, a) => hmpDriveDel(ctx, String(a.id), () => reported(qmp(ctx, 'blockdev-del', { 'node-name': a.id })), attempt),
  'qemu-io': (ctx, a) => hmpQemuIo(ctx, a, attempt),
  // hmp_drive_add: -n is hmp_drive_add_node; else drive_new's drive (a named BlockBackend)
  drive_add: (ctx, a) => (a.node === true ? driveAddNode(ctx, String(a.opts)) : hmpDriveAdd(ctx, String(a.opts), attempt)),
  // hmp_change → hmp_change_medium (monitor/hmp-cmds.c): blockdev-change-medium by device name
  change: (ctx, a) => {
    const ro = a['read-only-mode'];
    if (ro !== undefined && !['retain', 'read-only', 'read-write'].includes(String(ro))) return `Error: invalid parameter value: ${String(ro)}\r\n`;
    return qmp(ctx, 'blockdev-change-medium', { device: a.device, filename: a.target, ...opt(a, 'arg', 'format'), force: a.force === true, ...opt(a, 'read-only-mode') });
  },
  stop: (ctx) => qmp(ctx, 'stop', {}),
  cont: (ctx) => qmp(ctx, 'cont', {}),
  system_reset: (ctx) => qmp(ctx, 'system_reset', {}),
  // hmp_device_add: qemu_opts_from_qdict and qdev_device_add(opts) on both versions: every value a string
  device_add: (ctx, a) => {
    const opts = qemuOptsText(String(a.device), 'driver');
    if (opts.driver === 'help' || opts.help !== undefined) return '';
    return attempt(ctx.p, () => addDevice(ctx, opts, false, { qemuOpts: true }));
  },
  // hmp_device_del → qmp_device_del, but without QMP's settling: the device is unrealized at once
  // and finalized (DEVICE_DELETED, its BlockBackend released: device_finalize) by an RCU callback
  // (bus_remove_child's call_rcu) that runs when the RCU thread gets the BQL, or at the next
  // device_add's drain_call_rcu: host timing, not modelled; only an id that names no device is
  device_del: (ctx, a) => (device(ctx.p, String(a.id)) === undefined ? qmp(ctx, 'device_del', { id: a.id }) : undefined),
  snapshot_blkdev: (ctx, a) => {
    if (a['snapshot-file'] === undefined) return "Error: Parameter 'snapshot-file' is missing\r\n";
    return qmp(ctx, 'blockdev-snapshot-sync', {
      device: a.device, 'snapshot-file': a['snapshot-file'], ...opt(a, 'format'), mode: a.reuse === true ? 'existing' : 'absolute-paths',
    });
  },
  snapshot_blkdev_internal: (ctx, a) => qmp(ctx, 'blockdev-snapshot-internal-sync', { device: a.device, name: a.name }),
  snapshot_delete_blkdev_internal: (ctx, a) => qmp(ctx, 'blockdev-snapshot-delete-internal-sync', { device: a.device, name: a.name, ...opt(a, 'id') }),
  // hmp_drive_mirror / hmp_drive_backup: no job id (the device name of the node's BlockBackend)
  drive_mirror: (ctx, a) => qmp(ctx, 'drive-mirror', {
    device: a.device, target: a.target, ...opt(a, 'format'), sync: a.full === true ? 'full' : 'top',
    mode: a.reuse === true ? 'existing' : 'absolute-paths', unmap: true,
  }),
  drive_backup: (ctx, a) => qmp(ctx, 'drive-backup', {
    device: a.device, target: a.target, ...opt(a, 'format'), sync: a.full === true ? 'full' : 'top',
    mode: a.reuse === true ? 'existing' : 'absolute-paths', ...(a.compress === true ? { compress: true } : {}),
  }),
  // hmp_object_add (qom/qom-hmp-cmds.c): user_creatable_add_from_str
  object_add: (ctx, a) => qmp(ctx, 'object-add', objectArgs(String(a.object))),
  object_del: (ctx, a) => qmp(ctx, 'object-del', { id: a.id }),
  // hmp_nbd_server_start: -w only with -a; -a exports every BlockBackend query-block lists by its
  // device name
  nbd_server_start: (ctx, a) => {
    if (a.writable === true && a.all !== true) return 'Error: -w only valid together with -a\r\n';
    let addr: Record<string, unknown>;
    try { addr = socketParse(String(a.uri)); } catch (e) { if (e instanceof QmpError) return `Error: ${e.desc}\r\n`; throw e; }
    const started = qmp(ctx, 'nbd-server-start', { addr });
    if (started !== '' || a.all !== true) return started;
    // -a: qmp_nbd_server_add of every BlockBackend query-block lists with a medium, by its device
    // name ("" for a device's anonymous one); the first failure stops the server again
    for (const info of COMMANDS.get('query-block')!.run({ ...ctx, args: {} }) as { device: string; inserted?: unknown }[]) {
      if (info.inserted === undefined) continue;
      const err = qmp(ctx, 'nbd-server-add', { device: info.device, writable: a.writable === true });
      if (err !== '') { qmp(ctx, 'nbd-server-stop', {}); return err; }
    }
    return '';
  },
  nbd_server_add: (ctx, a) => qmp(ctx, 'nbd-server-add', { device: a.device, ...opt(a, 'name'), writable: a.writable === true }),
  // hmp_nbd_server_remove: qmp_nbd_server_remove(name, force, HARD): -f is mode hard, else the default (safe)
  nbd_server_remove: (ctx, a) => qmp(ctx, 'nbd-server-remove', { name: a.name, ...(a.force === true ? { mode: 'hard' } : {}) }),
  nbd_server_stop: (ctx) => qmp(ctx, 'nbd-server-stop', {}),
  // hmp_block_set_io_throttle: a name blk_by_name does not know is taken as the qdev id
  block_set_io_throttle: (ctx, a) => qmp(ctx, 'block_set_io_throttle', {
    ...(blkByName(ctx.p, String(a.device)) ? { device: a.device } : { id: a.device }), bps: a.bps, bps_rd: a.bps_rd, bps_wr: a.bps_wr, iops: a.iops, iops_rd: a.iops_rd, iops_wr: a.iops_wr,
  }),
};

/**
 * handle_hmp_command for one line. Returns the printed text, or undefined for a command this
 * model does not run (savevm/loadvm/delvm are the caller's; the rest is refused as not modelled).
 */
export function runHmpLine(ctx: CommandCtx, line: string): string | undefined {
  const trimmed = line.replace(/^\s+/, '');
  if (trimmed === '') return '';
  // get_command_name: up to white space or '/'
  const name0 = /^[^\s/]*/.exec(trimmed)![0];
  const name = ALIAS[name0] ?? name0;
  // monitor_parse_command: a name hmp-commands.hx does not have
  if (!HMP_NAMES.has(name0)) return `unknown command: '${name0}'\r\n`;
  if (name === 'help') return '';
  if (name === 'info') return runInfo(ctx, trimmed.slice(name0.length));
  const spec = ARGS[name];
  const handler = HANDLERS[name];
  if (spec === undefined || handler === undefined) return undefined;
  let args: Record<string, unknown>;
  try {
    args = parseArgs(name0, spec, trimmed.slice(name0.length));
  } catch (e) {
    if (e instanceof HmpParseError) return tryHelp(e.message, name0);
    throw e;
  }
  return handler(ctx, args);
}

/** handle_hmp_command after a parse failure: the message, then where help is. */
const tryHelp = (msg: string, cmd: string): string => `${msg}\r\nTry "help ${cmd}" for more information\r\n`;

/** hmp-commands-info.hx's item names on 7.2 and 10.0 (the monitor's info table). */
const INFO_NAMES = new Set(('version network chardev block blockstats block-jobs registers lapic cpus history irq pic rdma pci tlb mem ' +
  'mtree jit opcount sync-profile kvm numa usb usbhost profile capture snapshots status mice vnc spice name uuid usernet migrate ' +
  'migrate_capabilities migrate_parameters balloon qtree qdm qom-tree roms trace-events tpm memdev memory-devices iothreads rocker ' +
  'rocker-ports rocker-of-dpa-flows rocker-of-dpa-groups skeys cmma dump ramblock hotpluggable-cpus vm-generation-id ' +
  'memory_size_summary sev replay dirty_rate vcpu_dirty_limit sgx via stats virtio virtio-status virtio-queue-status ' +
  'virtio-vhost-queue-status virtio-queue-element cryptodev').split(' '));

/** The args_type of the block info items (hmp-commands-info.hx). */
const INFO_ARGS: Record<string, string> = { block: 'nodes:-n,verbose:-v,device:B?', blockstats: '', 'block-jobs': '', snapshots: '' };

/**
 * `info ITEM`: monitor_parse_command looks ITEM up in the info table ("unknown command: 'info
 * ITEM'"), parses its arguments and runs its printer (commands/vm/hmp-info.ts). The other items
 * print what the model does not keep (thread ids, registers, …): nothing.
 */
function runInfo(ctx: CommandCtx, rest: string): string | undefined {
  const r = rest.replace(/^\s+/, '');
  const item = /^[^\s/]*/.exec(r)![0];
  if (item === '') return '';
  if (!INFO_NAMES.has(item)) return `unknown command: 'info ${item}'\r\n`;
  const spec = INFO_ARGS[item];
  if (spec === undefined) return '';
  let args: Record<string, unknown>;
  try {
    args = parseArgs(item, spec, r.slice(item.length));
  } catch (e) {
    if (e instanceof HmpParseError) return tryHelp(e.message, `info ${item}`);
    throw e;
  }
  const out = item === 'block' ? hmpInfoBlock(ctx, args) : item === 'blockstats' ? hmpInfoBlockstats(ctx)
    : item === 'block-jobs' ? hmpInfoBlockJobs(ctx) : hmpInfoSnapshots(ctx);
  return out?.replace(/\n/g, '\r\n');
}
