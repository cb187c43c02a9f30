// A tiny driver for job specs: commands against the model's state, one process ("A").
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import { permLetters } from '../../graph/perm.js';
import type { State } from '../../graph/types.js';
import { stateHash } from '../../graph/hash.js';
import type { QmpEvent } from '../../commands/protocol.js';
import { executeCommand } from '../../commands/model.js';

export class M {
  state: State = {};
  events: QmpEvent[] = [];
  /** Runs a command; returns the error desc, or null on success. */
  run(cmd: string, args: Record<string, unknown> = {}): string | null {
    const r = executeCommand(this.state, 'A', cmd, args);
    this.state = r.state;
    this.events.push(...r.events);
    return 'error' in r.reply ? r.reply.error.desc : null;
  }
  ok(cmd: string, args: Record<string, unknown> = {}): void {
    const e = this.run(cmd, args);
    if (e !== null) throw new Error(`${cmd} ${JSON.stringify(args)} failed: ${e}`);
  }
  take(): string[] {
    const out = this.events.map((e) => `${e.event}${e.event === 'JOB_STATUS_CHANGE' ? ':' + (e.data as { status: string }).status : ''}`);
    this.events = [];
    return out;
  }
  p(): Proc { return new Proc(new Draft(this.state), 'A'); }
  /** "parent -[name]-> child perm/shared" lines for the edges into `node` (perm names shortened). */
  edge(parentNode: string, name: string): string | undefined {
    const p = this.p();
    const e = p.childrenOf(parentNode).find((x) => x.name === name);
    return e ? `${e.child} ${short(e.perm)}/${short(e.shared)}` : undefined;
  }
  frozen(): string[] {
    const p = this.p();
    return p.edges().filter((e) => e.frozen).map((e) => `${e.parent.kind === 'node' ? e.parent.node : '?'}-[${e.name}]->${e.child}`).sort();
  }
}

const short = permLetters;

/**
 * base <- mid <- top, explicit nodes with inline file children named <x>f. Layer i holds data in
 * its own 1 MiB stretch at i MiB (two 512 KiB chunks), so a stream or commit has chunks to copy and a
 * speed-limited job sleeps after it instead of finishing at once (as on QEMU).
 */
export function chain(m: M, opts: { topRo?: boolean; names?: string[] } = {}): void {
  const names = opts.names ?? ['base', 'mid', 'top'];
  names.forEach((n, i) => {
    m.ok('x-blockgraph-image-create', {
      file: `${n}.qcow2`, format: 'qcow2', size: '8M', data: [{ offset: i * 1048576, length: 1048576 }],
      ...(i > 0 ? { backing: `${names[i - 1]}.qcow2`, 'backing-format': 'qcow2' } : {}),
    });
  });
  names.forEach((n, i) => {
    m.ok('blockdev-add', {
      driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: `${n}.qcow2`, 'node-name': `${n}f` },
      backing: i > 0 ? names[i - 1] : null, ...(opts.topRo && i === names.length - 1 ? { 'read-only': true } : {}),
    });
  });
}

/**
 * The state hash without each process's generated-name counter: a refused command that opened
 * unnamed nodes (inline children, job filters) keeps their numbers, as QEMU's id_generate does.
 */
export function graphHash(s: State): string {
  const out: State = {};
  for (const [k, v] of Object.entries(s)) {
    const meta = (v.meta ?? {}) as Record<string, Record<string, unknown>>;
    out[k] = k.startsWith('@') || !meta.proc ? v : { ...v, meta: { ...meta, proc: { ...meta.proc, autoName: 0 } } };
  }
  return stateHash(out);
}
