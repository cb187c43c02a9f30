// The state shape. Everything is plain JSON so that the same state can be hashed,
// snapshotted and rebuilt byte-identically by replay. Order-sensitive QEMU lists
// (parents and children, both newest first) are kept as `at` sequence numbers, never
// as object key order.

/** Whole store state: one scope per QEMU process ("A", "B", …) plus "@host" for the image catalogue. */
export type State = Record<string, Scope>;
export type Scope = Record<string, Record<string, unknown>>;

export const HOST = '@host';

export type ParentRef =
  | { kind: 'node'; node: string }
  | { kind: 'bb'; bb: string }
  | { kind: 'job'; job: string };

export interface Edge {
  id: string;
  parent: ParentRef;
  name: string;            // file, backing, image, children.N, root, "main node", …
  child: string;           // node name
  role: number;            // ROLE_* bits
  perm: number;
  shared: number;
  frozen: boolean;
  at: number;              // attach order: higher is newer (QEMU inserts at the list head)
}

export interface BdsNode {
  name: string;
  auto: boolean;           // generated name (#block…)
  driver: string;
  ro: boolean;
  filename: string;        // what query-named-block-nodes reports as `file` ("" where QEMU gives json:{…})
  options: Record<string, unknown>; // bs->options: effective, flattened, children's sub-QDicts removed (graph/options.ts)
  explicit?: Record<string, unknown>;
  unmap?: boolean;         // BDRV_O_UNMAP in bs->open_flags (discard=unmap); absent: derived from options // bs->explicit_options (absent: nodes made by job code, = options)
  monitor: boolean;        // the monitor holds a reference (blockdev-add of a root)
  implicit: boolean;       // job filter created without filter-node-name
  neverFreeze: boolean;
  inheritsFrom: string | null;
  aio: string;             // "main" or an iothread id
  size: number;            // bytes
  align: number;           // request alignment (blkdebug align)
  header: { backing?: string; backingFormat?: string } | null; // image header (qcow2)
  lock: { perm: number; shared: number } | null; // file-posix committed lock state; null: locking off
  forceShare: boolean;
  order: number;           // name-assignment order (x-debug-query-block-graph lists nodes in it)
  extra?: Record<string, unknown>; // driver state: throttle group, quorum threshold, blkdebug perms…
}

export interface BlockBackend {
  id: string;
  owner: { kind: 'export' | 'job' | 'tmp'; id: string; role?: string };
  perm: number;
  shared: number;
  allowAioChange: boolean;
  aio: string;
  at: number;
}

export type JobStatus =
  | 'undefined' | 'created' | 'running' | 'paused' | 'ready' | 'standby'
  | 'waiting' | 'pending' | 'aborting' | 'concluded' | 'null';

export interface Job {
  id: string;
  type: 'stream' | 'commit' | 'mirror' | 'backup';
  status: JobStatus;
  autoFinalize: boolean;
  autoDismiss: boolean;
  paused: number;          // pause counter (job-pause nests)
  speed: number;
  cancelled: boolean;
  error: string | null;
  data: Record<string, unknown>; // job-specific: top, base, filter, target, …
  at: number;
  aio?: string;            // the job's AioContext (moves with its nodes); absent = "main"
}

export interface QomObject { id: string; qomType: string; props: Record<string, unknown> }

export interface BlockExport {
  id: string;
  type: string;
  node: string;
  name: string;            // NBD export name
  writable: boolean;
  bb: string;
  iothread: string | null;
  fixed: boolean;
}

export interface ProcMeta {
  autoName: number;        // QEMU's global counter for #block names
  seq: number;             // monotonic counter for edge/BB/attach order ids
  nbd: { addr: unknown } | null;
  /** Seed 002's format locking as a fallback where the protocol leaf cannot lock (off: QEMU never merged it). */
  formatLocking?: boolean;
  /** The QEMU version this process models (graph/version.ts); absent: 7.2, as in every older log. */
  qemu?: '7.2' | '10.0';
}

export interface Image {
  file: string;
  format: string;          // qcow2, raw
  size: number;
  backing?: string;
  backingFormat?: string;
  clusterSize?: number;
}

/** Collection names inside a process scope. */
export type Coll = 'nodes' | 'edges' | 'bbs' | 'jobs' | 'objects' | 'exports' | 'meta';
