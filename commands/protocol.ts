// One shape for every QMP peer: the real qemu-storage-daemon (recorder, proxy) and the
// blockgraph model (runner, server). The oracle harness drives either through this.
import type { Observable } from 'rxjs';

export interface QmpErrorBody { class: string; desc: string }
export type QmpReply = { return: unknown } | { error: QmpErrorBody };
export interface QmpEvent { event: string; data?: Record<string, unknown>; timestamp?: { seconds: number; microseconds: number } }

export interface QmpConnection {
  /** Sends one command and resolves with QEMU's reply (never rejects for a QMP-level error). */
  execute(command: string, args?: Record<string, unknown>): Promise<QmpReply>;
  /** Asynchronous events in arrival order. */
  readonly events$: Observable<QmpEvent>;
  close(): Promise<void>;
}

/** `x-debug-query-block-graph` as QEMU returns it. */
export interface XDebugBlockGraph {
  nodes: { id: number; type: 'block-backend' | 'block-job' | 'block-driver'; name: string }[];
  edges: { parent: number; child: number; name: string; perm: string[]; 'shared-perm': string[] }[];
}

/** The fields of `query-named-block-nodes` (flat: true) that the oracle uses. */
export interface NamedBlockNode {
  'node-name': string; drv: string; ro: boolean; file: string;
  'dirty-bitmaps'?: { name?: string; granularity: number; recording: boolean; persistent: boolean; busy: boolean; inconsistent?: boolean }[];
}
