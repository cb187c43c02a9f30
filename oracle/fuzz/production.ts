// What every production of the fuzz grammar shares (oracle/fuzz/grammar.ts holds the core
// productions, oracle/fuzz/families/ one file per command family): the production type, the
// image files of a case and small JSON helpers.
import type { Json, JsonObject, Step } from '../format.js';
import type { Generator } from './grammar.js';
import type { ProcView } from './world.js';

/** Draws one command for process `proc` over its current view, or undefined when it does not fit. */
export type Production = (g: Generator, p: ProcView, proc: string) => Step | undefined;

export const QCOW2 = ['base.qcow2', 'mid.qcow2', 'top.qcow2', 'a.qcow2', 't1.qcow2', 't2.qcow2'];
export const ALL_FILES = [...QCOW2, 'r.raw'];
/** Formats of the fuzz images `v.FORMAT` (grammar.ts FUZZ_IMAGES), opened by families/widened.ts. */
export const OTHER_FORMAT_IMAGES = ['qed', 'vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk'] as const;
/** Images without a backing file and without data: targets for mode=existing overlays. */
export const EMPTY_QCOW2 = ['t1.qcow2', 't2.qcow2'];

export const clone = <T extends Json>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
export const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
export const cmd = (proc: string, execute: string, args: JsonObject): Step => (proc === 'A' ? { execute, arguments: args } : { proc, execute, arguments: args });
