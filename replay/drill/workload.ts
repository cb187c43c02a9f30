// Plausible QMP commands over a small name space, for random drills and fuzzing. Small names
// (four nodes, two exports, two jobs) make later commands hit what earlier ones built, so
// sequences reach deep states (chains, exports on chains, jobs on exports) instead of being
// refused at the first reference. Driven by any source of integers: a seeded PRNG for drills
// (no fast-check at runtime), fast-check's integer streams in specs (so failures shrink).
import type { ImageSpec, Scenario, Step } from '../../oracle/format.js';

export interface Chooser {
  /** An integer in 0..n-1. */
  int(n: number): number;
}

/** mulberry32: a tiny deterministic PRNG, seeded explicitly (machines never read Math.random). */
export function seededChooser(seed: number): Chooser {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n) };
}

/** Replays a fixed list of integers (then zeros): how fast-check drives the generator. */
export function listChooser(xs: readonly number[]): Chooser {
  let i = 0;
  return { int: (n) => (n <= 1 ? 0 : Math.abs(xs[i++] ?? 0) % n) };
}

export const WORKLOAD_IMAGES: ImageSpec[] = [
  { file: 'base.qcow2', format: 'qcow2', size: '16M' },
  { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2' },
  { file: 'r.raw', format: 'raw', size: '1M' },
  { file: 'o.qcow2', format: 'qcow2', size: '16M' },
];

const NODES = ['n0', 'n1', 'n2', 'n3'];
const FILES = WORKLOAD_IMAGES.map((i) => i.file);
const JOBS = ['j0', 'j1'];
const EXPORTS = ['e0', 'e1'];

export interface RandomCommand { proc: string; execute: string; arguments: Record<string, unknown> }
type Maker = (c: Chooser) => Omit<RandomCommand, 'proc'>;

const pick = <T>(c: Chooser, xs: readonly T[]): T => xs[c.int(xs.length)]!;
const flag = (c: Chooser) => c.int(2) === 1;
const node = (c: Chooser) => pick(c, NODES);

function fileChild(c: Chooser): unknown {
  return c.int(3) === 0 ? node(c) : { driver: 'file', filename: pick(c, FILES), ...(flag(c) ? { 'read-only': true } : {}) };
}

function addOptions(c: Chooser, name: string): Record<string, unknown> {
  switch (c.int(6)) {
    case 0: return { driver: 'null-co', 'node-name': name, ...(flag(c) ? { size: 1048576 } : {}) };
    case 1: return { driver: 'file', 'node-name': name, filename: pick(c, FILES), ...(flag(c) ? { 'read-only': true } : {}) };
    case 2: return { driver: 'raw', 'node-name': name, file: fileChild(c) };
    case 3: return { driver: 'throttle', 'node-name': name, 'throttle-group': 'tg0', file: node(c) };
    default: {
      const backing = c.int(3);
      return {
        driver: 'qcow2', 'node-name': name, file: fileChild(c),
        ...(backing === 0 ? { backing: null } : backing === 1 ? { backing: node(c) } : {}),
        ...(flag(c) ? { 'read-only': true } : {}),
      };
    }
  }
}

const MAKERS: Maker[] = [
  (c) => ({ execute: 'blockdev-add', arguments: addOptions(c, node(c)) }),
  (c) => ({ execute: 'blockdev-add', arguments: addOptions(c, node(c)) }),
  (c) => ({ execute: 'blockdev-del', arguments: { 'node-name': node(c) } }),
  (c) => ({ execute: 'object-add', arguments: c.int(2) ? { 'qom-type': 'throttle-group', id: 'tg0', limits: {} } : { 'qom-type': 'iothread', id: pick(c, ['io0', 'io1']) } }),
  (c) => ({ execute: 'object-del', arguments: { id: pick(c, ['tg0', 'io0', 'io1']) } }),
  () => ({ execute: 'nbd-server-start', arguments: { addr: { type: 'unix', data: { path: 'nbd.sock' } } } }),
  () => ({ execute: 'nbd-server-stop', arguments: {} }),
  (c) => ({ execute: 'block-export-add', arguments: { type: 'nbd', id: pick(c, EXPORTS), 'node-name': node(c), ...(flag(c) ? { writable: true } : {}) } }),
  (c) => ({ execute: 'block-export-del', arguments: { id: pick(c, EXPORTS) } }),
  (c) => ({ execute: 'blockdev-reopen', arguments: { options: [addOptions(c, node(c))] } }),
  (c) => ({ execute: 'blockdev-snapshot', arguments: { node: node(c), overlay: node(c) } }),
  (c) => ({ execute: 'block-stream', arguments: { 'job-id': pick(c, JOBS), device: node(c), 'auto-finalize': false, 'auto-dismiss': true } }),
  (c) => ({ execute: 'block-commit', arguments: { 'job-id': pick(c, JOBS), device: node(c), 'auto-finalize': false, 'auto-dismiss': false } }),
  (c) => ({ execute: 'blockdev-mirror', arguments: { 'job-id': pick(c, JOBS), device: node(c), target: node(c), sync: 'full', 'auto-finalize': false, 'auto-dismiss': false } }),
  (c) => ({ execute: pick(c, ['job-pause', 'job-resume', 'job-cancel', 'job-complete', 'job-finalize', 'job-dismiss']), arguments: { id: pick(c, JOBS) } }),
  (c) => ({ execute: 'x-blockgraph-job-advance', arguments: { id: pick(c, JOBS), status: pick(c, ['pending', 'ready', 'concluded', 'null']) } }),
  (c) => ({ execute: 'x-blockdev-set-iothread', arguments: { 'node-name': node(c), iothread: pick(c, ['io0', 'io1', null]), force: true } }),
  (c) => ({ execute: 'block_resize', arguments: { 'node-name': node(c), size: pick(c, [1048576, 2097152]) } }),
];

/** One plausible command; about one in eight goes to a second process "B" (cross-process locks). */
export function randomStep(c: Chooser): RandomCommand {
  const proc = c.int(8) === 0 ? 'B' : 'A';
  return { proc, ...pick(c, MAKERS)(c) };
}

/** A scenario of `n` random commands over WORKLOAD_IMAGES, reproducible from `seed`. */
export function randomScenario(seed: number, n: number, prefix?: Scenario): Scenario {
  const c = seededChooser(seed);
  const steps: Step[] = [...(prefix?.steps ?? [])];
  for (let i = 0; i < n; i++) steps.push(randomStep(c) as unknown as Step);
  return {
    name: `${prefix ? prefix.name + '+' : ''}random-${seed}-${n}`,
    description: `${n} random commands, seed ${seed}`,
    covers: prefix?.covers ?? ['add-del'],
    images: [...(prefix?.images ?? []), ...WORKLOAD_IMAGES.filter((i) => !prefix?.images.some((p) => p.file === i.file))],
    steps,
  };
}
