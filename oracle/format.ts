// Scenario and transcript shapes of `blockgraph-oracle/1` (see shared/oracle/README.md), a
// validating parser and the deterministic printer whose output must equal the recorded files
// byte for byte, so that re-recordings can be checked with a plain `diff`.
import { BlockgraphError } from '../errors/index.js';

export const TRANSCRIPT_FORMAT = 'blockgraph-oracle/1';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ImageRegion { offset: number; length: number; pattern?: number }
export interface ImageSpec {
  /** a file name, or a relative path below the image directory (its directories are made; oracle/harness.ts setupImages) */
  file: string;
  format: string;
  size: string;
  backing?: string;
  'backing-format'?: string;
  options?: string;
  /**
   * The passphrase of an encrypted image (format `luks`, or qcow2 with `encrypt.format=luks` in
   * `options`): the recorder passes it to qemu-img as `--object secret,id=imgsec0,data=SECRET` with
   * `key-secret=imgsec0` (`encrypt.key-secret` for qcow2) added to the options (oracle/qsd.ts).
   */
  secret?: string;
  data?: ImageRegion[];
}

export interface CommandStep { proc?: string; execute: string; arguments?: JsonObject }
export interface WaitStep { proc?: string; wait: { job: string; status: string } }
export type Step = CommandStep | WaitStep;

/**
 * The machine of a `vm` scenario (issue 17): recorded on qemu-system-x86_64 (q35, paused, no guest),
 * run on the model as the `vm` target. Versioned apart from the transcript format, so a QSD
 * transcript is unchanged and a reader can refuse a machine description it does not know.
 */
export const VM_FORMAT = 1;
export interface VmSpec {
  version: typeof VM_FORMAT;
  /** `-object iothread,id=ID` */
  iothreads?: string[];
  /** `-device pcie-root-port,id=ID,bus=pcie.0,chassis=N`: the slots devices can be hotplugged into. */
  'root-ports'?: string[];
  /** `-device virtio-scsi-pci,id=ID[,iothread=IO]` on pcie.0; its bus is `ID.0`. */
  'scsi-controllers'?: { id: string; iothread?: string }[];
  /** `-blockdev JSON`, in order. */
  blockdevs?: JsonObject[];
  /** `-device JSON`, in order (cold-plugged: ide-hd on ide.N, devices on pcie.0). */
  devices?: JsonObject[];
  /**
   * `-drive TEXT`, in order, each passed as given (QemuOpts text: `file=a.qcow2,if=virtio,…`): the
   * legacy drives blockdev.c's drive_new makes in configure_blockdev, which the board (IDE, floppy),
   * `if=virtio`'s own virtio-blk device and an lsi53c895a's bus (`if=scsi`) then claim.
   */
  drives?: string[];
  /**
   * true: ACPI PCI hotplug stays on, as on libvirt's q35 (ICH9-LPC.acpi-pci-hotplug-with-bridge-support,
   * QEMU's default since 6.1): a device on a root port unplugs through ACPI and waits for the guest's
   * eject, which never comes without one. Absent: the recorder turns it off (native PCIe hotplug).
   */
  'acpi-pci-hotplug'?: boolean;
  /**
   * The machine type (absent: q35). `pc` (i440fx): devices go on the root bus `pci.0`, which
   * hotplugs through ACPI (PIIX4_PM's acpi-root-pci-hotplug, on by default): a device_del of a PCI
   * device waits for the guest's eject; the PIIX IDE has `ide.0` and `ide.1`, two units each;
   * no pcie-root-port (`root-ports` must be absent) and no `acpi-pci-hotplug` (ICH9's).
   */
  machine?: 'q35' | 'pc';
  /**
   * true: `-incoming defer`, the machine of a migration destination before `migrate-incoming`:
   * run state inmigrate, every image opened inactive (blockdev_init / bds_tree_init add
   * BDRV_O_INACTIVE), guest devices' BlockBackends without permissions (blk_attach_dev).
   */
  incoming?: boolean;
  /**
   * `false` on a `pc` machine only: `-M pc,acpi=off`, as libvirt runs a domain without
   * `<features><acpi/>` (-no-acpi): pc_init1 creates no PIIX4_PM, so pci.0 has no hotplug handler.
   */
  acpi?: false;
  /**
   * `-object TEXT` each, as given, after the iothreads (stop 43: throttle-group and iothread
   * objects QEMU may refuse at start-up).
   */
  objects?: string[];
  /**
   * `-machine TEXT`, as given (stop 43: the firmware's flash, `pflash0=NODE,pflash1=NODE`: the
   * pc machines' alias properties of their cfi.pflash01 devices' `drive`).
   */
  'machine-options'?: string;
}

/**
 * Facts of the host the images live on that QEMU's answers depend on (optional; absent members
 * have their defaults). `direct-io-alignment`: what file-posix's raw_probe_alignment finds for
 * O_DIRECT in the image directory (512, 1024, 2048 or 4096; absent: 512, a fresh os.tmpdir() on
 * ext4 over 512-byte sectors; tmpfs gives 4096). Recorders probe their image directory and
 * write it (oracle/image-root.ts); the model takes it as an input (x-blockgraph-host).
 */
export interface HostSpec { 'direct-io-alignment'?: number }
export const HOST_DIRECT_IO_ALIGNMENTS = [512, 1024, 2048, 4096] as const;

export interface Scenario {
  name: string;
  description: string;
  covers: string[];
  /** Present: the host the scenario is (to be) recorded on differs from the default one. */
  host?: HostSpec;
  images: ImageSpec[];
  /** Present: the scenario runs on a QEMU VM (the `vm` target), not on qemu-storage-daemon. */
  vm?: VmSpec;
  /**
   * true: the reply text of every `human-monitor-command` step is recorded (`result.return`,
   * normalized as error texts are) and compared as that step's error text: HMP prints its errors
   * and its `info` answers there (monitor/hmp.c handle_hmp_command). Absent: not recorded (a
   * line such as `info iothreads` prints host thread ids).
   */
  'hmp-text'?: true;
  /**
   * true: the reply of every query of the block graph (oracle/replies.ts RECORDED_QUERIES:
   * query-named-block-nodes, query-block, query-blockstats, query-block-jobs, query-jobs,
   * query-block-exports, x-debug-query-block-graph, query-iothreads) is recorded as the step's
   * `result.return`, normalised as the graph is (temp dir stripped, auto node names renamed, the
   * fields QEMU does not fill from the scenario removed by name: oracle/replies.ts
   * stripUnstable), and compared as that step's graph. Absent: only the outcome is recorded.
   */
  replies?: true;
  steps: Step[];
}

/**
 * `return`: a human-monitor-command's printed text (a string), in a scenario with `hmp-text`, or a
 * recorded query's normalised reply (any JSON), in a scenario with `replies`.
 */
export type StepResult = { ok: true; return?: Json } | { ok: false; class: string; desc: string };
export interface NormEvent { event: string; data?: JsonObject }

/** bitmaps: the node's dirty bitmaps as query-named-block-nodes lists them, `name granularity [flags]` (absent: none). */
export interface NormNode { name: string; driver: string; ro: boolean; file?: string; bitmaps?: string[] }
export interface NormParent { name: string; type: 'block-backend' | 'block-job' }
export interface NormEdge { parent: string; name: string; child: string; perm: string[]; shared: string[] }
export interface NormGraph { nodes: NormNode[]; parents: NormParent[]; edges: NormEdge[] }

export interface TranscriptCommandStep {
  proc: string;
  execute: string;
  arguments: JsonObject;
  result: StepResult;
  events: NormEvent[];
  graph?: NormGraph;
}
export interface TranscriptWaitStep {
  proc: string;
  wait: { job: string; status: string };
  events: NormEvent[];
  graph?: NormGraph;
}
export type TranscriptStep = TranscriptCommandStep | TranscriptWaitStep;

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  name: string;
  description: string;
  covers: string[];
  qemu: string;
  host?: HostSpec;
  images: ImageSpec[];
  vm?: VmSpec;
  'hmp-text'?: true;
  replies?: true;
  steps: TranscriptStep[];
}

export function isWaitStep(s: TranscriptStep): s is TranscriptWaitStep;
export function isWaitStep(s: Step): s is WaitStep;
export function isWaitStep(s: Step | TranscriptStep): boolean {
  return 'wait' in s;
}

// ---------------------------------------------------------------------------------------------
// validation

function bad(where: string, what: string): never {
  throw new BlockgraphError('BG_BAD_INPUT', `${where}: ${what}`, { where });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') bad(where, `'${key}' must be a string`);
  return v;
}

function strList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(where, 'must be a list of strings');
  return v as string[];
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(where, `unexpected member '${k}'`);
}

function parseImages(v: unknown, where: string): ImageSpec[] {
  if (!Array.isArray(v)) bad(where, 'must be a list');
  return v.map((im, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(im)) bad(w, 'must be an object');
    onlyKeys(im, ['file', 'format', 'size', 'backing', 'backing-format', 'options', 'secret', 'data'], w);
    str(im, 'file', w); str(im, 'format', w); str(im, 'size', w);
    for (const k of ['backing', 'backing-format', 'options', 'secret']) if (k in im) str(im, k, w);
    // the secret goes into qemu-img's --object list: QemuOpts' ',' would split it
    if (typeof im.secret === 'string' && (im.secret === '' || im.secret.includes(','))) bad(w, "'secret' must be non-empty and hold no ','");
    if ('data' in im) {
      if (!Array.isArray(im.data)) bad(`${w}.data`, 'must be a list');
      im.data.forEach((r, j) => {
        const wr = `${w}.data[${j}]`;
        if (!isObj(r)) bad(wr, 'must be an object');
        onlyKeys(r, ['offset', 'length', 'pattern'], wr);
        for (const k of ['offset', 'length', 'pattern']) {
          if ((k in r || k !== 'pattern') && (typeof r[k] !== 'number' || !Number.isInteger(r[k]) || (r[k] as number) < 0)) {
            bad(wr, `'${k}' must be a non-negative integer`);
          }
        }
      });
    }
    return im as unknown as ImageSpec;
  });
}

function parseWait(v: unknown, where: string): { job: string; status: string } {
  if (!isObj(v)) bad(where, 'must be an object');
  onlyKeys(v, ['job', 'status'], where);
  return { job: str(v, 'job', where), status: str(v, 'status', where) };
}

function parseStep(s: unknown, where: string): Step {
  if (!isObj(s)) bad(where, 'must be an object');
  if ('proc' in s) str(s, 'proc', where);
  if ('wait' in s) {
    onlyKeys(s, ['proc', 'wait'], where);
    parseWait(s.wait, `${where}.wait`);
  } else {
    onlyKeys(s, ['proc', 'execute', 'arguments'], where);
    str(s, 'execute', where);
    if ('arguments' in s && !isObj(s.arguments)) bad(where, "'arguments' must be an object");
  }
  return s as unknown as Step;
}

const ID_LIST_OK = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[A-Za-z][A-Za-z0-9\-._]*$/.test(x));

/** Validates a `vm` member: every id well formed (they go on a command line), objects as JSON. */
export function parseVm(v: unknown, where: string): VmSpec {
  if (!isObj(v)) bad(where, 'must be an object');
  onlyKeys(v, ['version', 'iothreads', 'root-ports', 'scsi-controllers', 'blockdevs', 'devices', 'drives', 'acpi-pci-hotplug', 'machine', 'acpi', 'incoming', 'objects', 'machine-options'], where);
  if ('objects' in v && (!Array.isArray(v.objects) || !v.objects.every((d) => typeof d === 'string'))) bad(`${where}.objects`, 'must be a list of strings');
  if ('machine-options' in v && typeof v['machine-options'] !== 'string') bad(`${where}.machine-options`, 'must be a string');
  if ('drives' in v && (!Array.isArray(v.drives) || !v.drives.every((d) => typeof d === 'string'))) bad(`${where}.drives`, 'must be a list of strings');
  if ('incoming' in v && v.incoming !== true) bad(`${where}.incoming`, 'may only be true');
  if ('machine' in v && v.machine !== 'q35' && v.machine !== 'pc') bad(`${where}.machine`, "must be 'q35' or 'pc'");
  if (v.machine === 'pc' && ('root-ports' in v || 'acpi-pci-hotplug' in v)) bad(where, "a 'pc' machine has no 'root-ports' or 'acpi-pci-hotplug'");
  if ('acpi' in v && (v.machine !== 'pc' || v.acpi !== false)) bad(`${where}.acpi`, "may only be false, on a 'pc' machine");
  if ('acpi-pci-hotplug' in v && typeof v['acpi-pci-hotplug'] !== 'boolean') bad(`${where}.acpi-pci-hotplug`, 'must be a boolean');
  if (v.version !== VM_FORMAT) bad(where, `'version' must be ${VM_FORMAT}`);
  for (const k of ['iothreads', 'root-ports']) {
    if (k in v && !ID_LIST_OK(v[k])) bad(`${where}.${k}`, 'must be a list of ids (a letter, then letters, digits, - . _)');
  }
  if ('scsi-controllers' in v) {
    if (!Array.isArray(v['scsi-controllers'])) bad(`${where}.scsi-controllers`, 'must be a list');
    v['scsi-controllers'].forEach((c, i) => {
      const w = `${where}.scsi-controllers[${i}]`;
      if (!isObj(c)) bad(w, 'must be an object');
      onlyKeys(c, ['id', 'iothread'], w);
      if (!ID_LIST_OK([c.id])) bad(w, "'id' must be an id");
      if ('iothread' in c && !ID_LIST_OK([c.iothread])) bad(w, "'iothread' must be an id");
    });
  }
  for (const k of ['blockdevs', 'devices']) {
    if (!(k in v)) continue;
    const list = v[k];
    if (!Array.isArray(list)) bad(`${where}.${k}`, 'must be a list');
    list.forEach((x, i) => { if (!isObj(x)) bad(`${where}.${k}[${i}]`, 'must be an object'); });
  }
  (v.devices as unknown[] | undefined)?.forEach((d, i) => {
    if (typeof (d as Record<string, unknown>).driver !== 'string') bad(`${where}.devices[${i}]`, "'driver' must be a string");
  });
  return v as unknown as VmSpec;
}

/** Validates a `host` member. */
export function parseHost(v: unknown, where: string): HostSpec {
  if (!isObj(v)) bad(where, 'must be an object');
  onlyKeys(v, ['direct-io-alignment'], where);
  const a = v['direct-io-alignment'];
  if (a !== undefined && !(HOST_DIRECT_IO_ALIGNMENTS as readonly unknown[]).includes(a)) {
    bad(where, `'direct-io-alignment' must be one of ${HOST_DIRECT_IO_ALIGNMENTS.join(', ')}`);
  }
  return v as HostSpec;
}

function parseHeader(o: Record<string, unknown>, where: string): void {
  if ('vm' in o) parseVm(o.vm, `${where}.vm`);
  if ('host' in o) parseHost(o.host, `${where}.host`);
  if ('hmp-text' in o && o['hmp-text'] !== true) bad(`${where}.hmp-text`, 'must be true when present');
  if ('replies' in o && o.replies !== true) bad(`${where}.replies`, 'must be true when present');
  str(o, 'name', where);
  str(o, 'description', where);
  const covers = strList(o.covers, `${where}.covers`);
  if (covers.length === 0) bad(`${where}.covers`, 'must name at least one area');
  parseImages(o.images, `${where}.images`);
  if (!Array.isArray(o.steps)) bad(`${where}.steps`, 'must be a list');
  // Every step runs (on the model or a daemon): a bound keeps one file from holding a run for
  // ever. The longest recorded transcript has 92 steps.
  if (o.steps.length > MAX_STEPS) {
    throw new BlockgraphError('BG_INPUT_TOO_LARGE', `${where}.steps: ${o.steps.length} steps are more than a scenario or transcript may hold (${MAX_STEPS})`, { where, limit: MAX_STEPS });
  }
}

/** The most steps a scenario or transcript may have (docs/hostile.md). */
export const MAX_STEPS = 10_000;

function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    bad(where, `not JSON: ${(e as Error).message}`);
  }
}

/** Parses and validates a scenario (a transcript is accepted too: its recorded parts are ignored). */
export function parseScenario(text: string | unknown, where = 'scenario'): Scenario {
  const o = typeof text === 'string' ? parseJsonText(text, where) : text;
  if (!isObj(o)) bad(where, 'must be a JSON object');
  parseHeader(o, where);
  const steps = (o.steps as unknown[]).map((s, i) => {
    if (!isObj(s)) bad(`${where}.steps[${i}]`, 'must be an object');
    const { result: _r, events: _e, graph: _g, ...rest } = s;
    return parseStep(rest, `${where}.steps[${i}]`);
  });
  return {
    name: o.name as string, description: o.description as string, covers: o.covers as string[],
    ...(o.host !== undefined ? { host: o.host as HostSpec } : {}),
    images: o.images as ImageSpec[], ...(o.vm !== undefined ? { vm: o.vm as VmSpec } : {}),
    ...(o['hmp-text'] === true ? { 'hmp-text': true as const } : {}),
    ...(o.replies === true ? { replies: true as const } : {}), steps,
  };
}

function parseResult(v: unknown, where: string, replies: boolean): StepResult {
  if (!isObj(v) || typeof v.ok !== 'boolean') bad(where, "must be {ok: true} or {ok: false, class, desc}");
  if (v.ok) {
    onlyKeys(v, ['ok', 'return'], where);
    // a query's reply (any JSON) only in a transcript with `replies`; HMP's text is a string
    if ('return' in v && !replies) str(v, 'return', where);
    return v as StepResult;
  }
  onlyKeys(v, ['ok', 'class', 'desc'], where);
  str(v, 'class', where); str(v, 'desc', where);
  return v as StepResult;
}

function parseEvents(v: unknown, where: string): NormEvent[] {
  if (!Array.isArray(v)) bad(where, 'must be a list');
  v.forEach((e, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(e)) bad(w, 'must be an object');
    onlyKeys(e, ['event', 'data'], w);
    str(e, 'event', w);
    if ('data' in e && !isObj(e.data)) bad(w, "'data' must be an object");
  });
  return v as NormEvent[];
}

export function parseGraph(v: unknown, where: string): NormGraph {
  if (!isObj(v)) bad(where, 'must be an object');
  onlyKeys(v, ['nodes', 'parents', 'edges'], where);
  for (const k of ['nodes', 'parents', 'edges']) if (!Array.isArray(v[k])) bad(`${where}.${k}`, 'must be a list');
  (v.nodes as unknown[]).forEach((n, i) => {
    const w = `${where}.nodes[${i}]`;
    if (!isObj(n)) bad(w, 'must be an object');
    onlyKeys(n, ['name', 'driver', 'ro', 'file', 'bitmaps'], w);
    str(n, 'name', w); str(n, 'driver', w);
    if (typeof n.ro !== 'boolean') bad(w, "'ro' must be a boolean");
    if ('file' in n) str(n, 'file', w);
    if ('bitmaps' in n) strList(n.bitmaps, `${w}.bitmaps`);
  });
  (v.parents as unknown[]).forEach((p, i) => {
    const w = `${where}.parents[${i}]`;
    if (!isObj(p)) bad(w, 'must be an object');
    onlyKeys(p, ['name', 'type'], w);
    str(p, 'name', w);
    if (p.type !== 'block-backend' && p.type !== 'block-job') bad(w, "'type' must be block-backend or block-job");
  });
  (v.edges as unknown[]).forEach((e, i) => {
    const w = `${where}.edges[${i}]`;
    if (!isObj(e)) bad(w, 'must be an object');
    onlyKeys(e, ['parent', 'name', 'child', 'perm', 'shared'], w);
    str(e, 'parent', w); str(e, 'name', w); str(e, 'child', w);
    strList(e.perm, `${w}.perm`); strList(e.shared, `${w}.shared`);
  });
  return v as unknown as NormGraph;
}

/** Parses and validates a `blockgraph-oracle/1` transcript; any defect is a BG_BAD_INPUT error. */
export function parseTranscript(text: string | unknown, where = 'transcript'): Transcript {
  const o = typeof text === 'string' ? parseJsonText(text, where) : text;
  if (!isObj(o)) bad(where, 'must be a JSON object');
  if (o.format !== TRANSCRIPT_FORMAT) bad(where, `'format' must be '${TRANSCRIPT_FORMAT}'`);
  onlyKeys(o, ['format', 'name', 'description', 'covers', 'qemu', 'host', 'images', 'vm', 'hmp-text', 'replies', 'steps'], where);
  parseHeader(o, where);
  str(o, 'qemu', where);
  (o.steps as unknown[]).forEach((s, i) => {
    const w = `${where}.steps[${i}]`;
    if (!isObj(s)) bad(w, 'must be an object');
    str(s, 'proc', w);
    if ('wait' in s) {
      onlyKeys(s, ['proc', 'wait', 'events', 'graph'], w);
      parseWait(s.wait, `${w}.wait`);
    } else {
      onlyKeys(s, ['proc', 'execute', 'arguments', 'result', 'events', 'graph'], w);
      str(s, 'execute', w);
      if (!isObj(s.arguments)) bad(w, "'arguments' must be an object");
      parseResult(s.result, `${w}.result`, o.replies === true);
    }
    parseEvents(s.events, `${w}.events`);
    // absent: the recorder took no graph there (oracle/harness.ts snapshotGraph)
    if (s.graph !== undefined) parseGraph(s.graph, `${w}.graph`);
  });
  return o as unknown as Transcript;
}

/** The scenario a model runs: the transcript minus `qemu` and the recorded parts of each step. */
export function scenarioOf(t: Transcript): Scenario {
  return {
    name: t.name, description: t.description, covers: t.covers,
    ...(t.host !== undefined ? { host: t.host } : {}), images: t.images,
    ...(t.vm !== undefined ? { vm: t.vm } : {}),
    ...(t['hmp-text'] === true ? { 'hmp-text': true as const } : {}),
    ...(t.replies === true ? { replies: true as const } : {}),
    steps: t.steps.map((s): Step => (isWaitStep(s)
      ? { proc: s.proc, wait: s.wait }
      : { proc: s.proc, execute: s.execute, arguments: s.arguments })),
  };
}

// ---------------------------------------------------------------------------------------------
// printing

/**
 * A container goes on one line (compact, no spaces) when it is flat (only scalars, or scalars and
 * lists of scalars, as an edge) or when the whole line, indentation and key included and the
 * trailing comma excluded, stays within this width. Derived from the 64 public transcripts: the
 * longest compact line there is 121 columns, the shortest broken one would have been 122.
 */
export const PRINT_WIDTH = 121;

const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;
const isFlat = (v: object): boolean => (Array.isArray(v)
  ? v.every((x) => !isContainer(x))
  : Object.values(v).every((x) => !isContainer(x) || (Array.isArray(x) && x.every((y) => !isContainer(y)))));

function printValue(v: unknown, indent: string, used: number): string {
  if (!isContainer(v)) return JSON.stringify(v);
  const compact = JSON.stringify(v);
  const empty = Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
  if (empty || isFlat(v) || used + compact.length <= PRINT_WIDTH) return compact;
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    return `[\n${v.map((x) => inner + printValue(x, inner, inner.length)).join(',\n')}\n${indent}]`;
  }
  const lines = Object.entries(v)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => {
      const head = `${inner}${JSON.stringify(k)}: `;
      return head + printValue(x, inner, head.length);
    });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** Pretty-prints any JSON value with the transcript rules (ends with a newline). */
export function printJson(v: unknown): string {
  return `${printValue(v, '', 0)}\n`;
}

/** The canonical text of a transcript: members in the format's order, deterministic layout. */
export function printTranscript(t: Transcript): string {
  const steps = t.steps.map((s) => (isWaitStep(s)
    ? { proc: s.proc, wait: s.wait, events: s.events, graph: s.graph }
    : { proc: s.proc, execute: s.execute, arguments: s.arguments, result: s.result, events: s.events, graph: s.graph }));
  return printJson({
    format: t.format, name: t.name, description: t.description, covers: t.covers, qemu: t.qemu,
    host: t.host, images: t.images, vm: t.vm, 'hmp-text': t['hmp-text'], replies: t.replies, steps,
  });
}
