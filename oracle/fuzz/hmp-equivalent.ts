// The QMP command an HMP line of the vm grammar (grammar-vm-hmp.ts) runs, for the two places
// that read commands by their QMP name: the crash guards (aborts.ts knownAbort, query-breaks.ts,
// grammar-vm.ts vmAbort) must see an HMP `block_stream` as the block-stream it is, and the
// fuzzer's World must track the job, the resize or the internal snapshot it made. Each entry
// follows the hmp_* function of block/monitor/block-hmp-cmds.c that builds the QMP call.
import type { JsonObject, NormGraph, Step } from '../format.js';

/** The node a name stands for: a named BlockBackend's (or device's) root node, else the name itself. */
export function rootOf(graph: NormGraph, name: string): string {
  return graph.edges.find((e) => e.name === 'root' && (e.parent === `dev:${name}` || e.parent === `bb:${name}`))?.child ?? name;
}

/** A size word of ours ("1b", "4k", "16M", "32M") in bytes (monitor_parse_arguments' 'o'). */
function bytes(w: string | undefined): number | undefined {
  const m = /^(\d+)([bkMG]?)$/.exec(w ?? '');
  if (!m) return undefined;
  return Number(m[1]) * ({ b: 1, k: 1024, '': 1 << 20, M: 1 << 20, G: 1 << 30 } as Record<string, number>)[m[2]!]!;
}

/**
 * The QMP step an HMP line amounts to, with a BlockBackend's name turned into its root node
 * where the QMP side names a node; undefined for a line without one (drive_add, drive_del of a
 * drive, commit, qemu-io, info). Only the lines grammar-vm-hmp.ts draws are read (words without quotes).
 */
export function hmpEquivalent(step: Step, graph: NormGraph): Step | undefined {
  if ('wait' in step || step.execute !== 'human-monitor-command') return undefined;
  const line = step.arguments?.['command-line'];
  if (typeof line !== 'string') return undefined;
  const words = line.trim().split(/\s+/);
  const name = words[0]!;
  const args = words.slice(1).filter((w) => w !== '-f');
  const force = words.includes('-f');
  const q = (execute: string, a: JsonObject): Step => ({ execute, arguments: a });
  const dev = args[0];
  if (dev === undefined) return undefined;
  switch (name) {
    // hmp_block_resize: qmp_block_resize(device) — bdrv_lookup_bs by the BlockBackend's name
    case 'block_resize': { const size = bytes(args[1]); return size === undefined ? undefined : q('block_resize', { 'node-name': rootOf(graph, dev), size }); }
    // hmp_block_stream: job-id and device are the name, on-error report, auto-finalize/dismiss defaults
    case 'block_stream': {
      const speed = bytes(args[1]);
      return q('block-stream', { 'job-id': dev, device: rootOf(graph, dev), ...(speed !== undefined ? { speed } : {}) });
    }
    case 'block_job_set_speed': { const speed = bytes(args[1]); return speed === undefined ? undefined : q('block-job-set-speed', { device: dev, speed }); }
    case 'block_job_cancel': return q('block-job-cancel', { device: dev, force });
    case 'block_job_complete': return q('block-job-complete', { device: dev });
    case 'block_job_pause': return q('block-job-pause', { device: dev });
    case 'block_job_resume': return q('block-job-resume', { device: dev });
    case 'snapshot_blkdev_internal': return args[1] === undefined ? undefined : q('blockdev-snapshot-internal-sync', { device: dev, name: args[1] });
    case 'snapshot_delete_blkdev_internal': return args[1] === undefined ? undefined : q('blockdev-snapshot-delete-internal-sync', { device: dev, name: args[1] });
    // hmp_drive_del of a node name is blockdev-del's
    case 'drive_del': return graph.nodes.some((n) => n.name === dev) ? q('blockdev-del', { 'node-name': dev }) : undefined;
    case 'eject': return q('eject', { id: dev, force });
    default: return undefined;
  }
}

/** Whether the HMP line did what it asked: these commands print nothing when they succeed. */
export const hmpSucceeded = (text: unknown): boolean => text === '';
