// Issue 15's 50k-node chain: a blockdev-add on top of a chain refreshes the perms below the new
// node's child (bdrv_refresh_perms), which QEMU walks to the bottom. The model's walk stops early
// (graph/refresh.ts refreshPerms, graph/perm-dirty.ts) where a full walk would change nothing,
// and must give exactly the full walk's result. Proved three ways, by counting and by
// differential runs, never by timing:
// - the work per add is the same at depth 100 and at depth 10,000;
// - every refresh of every oracle scenario, run both ways, gives the same error and the same
//   writes in the same order;
// - so does every refresh of random graphs with random stale perms, read-only flags, sizes,
//   locks and extra edges (states a full refresh would repair or refuse), and the same random
//   runs catch an early stop without its proofs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand } from '../../commands/model.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { applyChanges, applyChangesInPlace } from '../../graph/apply.js';
import { Draft } from '../../graph/draft.js';
import { PERM_ALL, ROLE_COW, ROLE_DATA, ROLE_FILTERED, ROLE_IMAGE, ROLE_METADATA, ROLE_PRIMARY } from '../../graph/perm.js';
import { Proc } from '../../graph/proc.js';
import { earlyStop, refreshPerms, refreshPermsFull, refreshWork } from '../../graph/refresh.js';
import { HOST, type BdsNode, type Edge, type State } from '../../graph/types.js';
import { baseDirty } from '../../graph/perm-dirty.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { ORACLE } from '../conformance/helpers.js';

type Work = typeof refreshWork;
const diff = (a: Work, b: Work): Work => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof Work]])) as Work;

/** Builds a raw chain of `depth` nodes over a null-co node, as bench/build-qmp.ts does through QMP, and returns the work of one more add on top. */
function chainAddWork(depth: number): Work {
  const state: State = {};
  const run = (args: Record<string, unknown>) => {
    const r = executeCommand(state, 'A', 'blockdev-add', args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    for (const s of r.steps) applyChangesInPlace(state, s.changes);
  };
  run({ driver: 'null-co', 'node-name': 'c0' });
  for (let i = 1; i < depth; i++) run({ driver: 'raw', 'node-name': `c${i}`, file: `c${i - 1}` });
  run({ driver: 'raw', 'node-name': 'warm', file: `c${depth - 1}` });
  const before = { ...refreshWork };
  run({ driver: 'raw', 'node-name': 'top', file: 'warm' });
  return diff(before, refreshWork);
}

test('an add on top of a chain costs the same at depth 100 and 10,000 (counted)', () => {
  const small = chainAddWork(100);
  const big = chainAddWork(10_000);
  console.log(`  depth 100: ${JSON.stringify(small)}\n  depth 10,000: ${JSON.stringify(big)}`);
  assert.ok(small.refreshes >= 2, 'the probe and the attach each refresh');
  assert.is(big.fullWalks, 0, 'no refresh fell back to the full walk');
  assert.equal(big, small, 'the same work at both depths');
  // the full walk would visit the whole chain twice per add
  assert.ok(big.nodesVisited < 20, `${big.nodesVisited} nodes visited`);
});

test('the full walk (early stop off) visits the whole chain: what the count above would show without it', () => {
  earlyStop.enabled = false;
  try {
    const w = chainAddWork(300);
    assert.ok(w.nodesVisited >= 2 * 300, `${w.nodesVisited} nodes visited`);
  } finally {
    earlyStop.enabled = true;
  }
});

test('every refresh of every oracle scenario: the early stop gives the full walk\'s error and writes', async () => {
  earlyStop.verify = true;
  earlyStop.mismatches = [];
  const pruned0 = earlyStop.pruned;
  const r0 = refreshWork.refreshes;
  try {
    for (const f of readdirSync(ORACLE).filter((f) => f.endsWith('.json')).sort()) {
      const t = parseTranscript(readFileSync(join(ORACLE, f), 'utf8'), f);
      await runOnModel(scenarioOf(t), new MemoryBackend());
    }
  } finally {
    earlyStop.verify = false;
  }
  const refreshes = refreshWork.refreshes - r0;
  const pruned = earlyStop.pruned - pruned0;
  console.log(`  ${refreshes} refreshes, ${pruned} stopped early, ${earlyStop.mismatches.length} mismatches`);
  assert.ok(pruned > 100, `${pruned} refreshes stopped early`);
  assert.equal(earlyStop.mismatches.slice(0, 3), []);
});

/** The engine's way: each command's steps folded into one state in place (applyChangesInPlace). */
class InPlaceBackend extends MemoryBackend {
  override async execute(proc: string, command: string, args?: Record<string, unknown>) {
    const r = executeCommand(this.state, proc, command, args);
    for (const st of r.steps) applyChangesInPlace(this.state, st.changes);
    return r;
  }
}

test('the inconsistent nodes kept beside the state (both reducers) are those a from-scratch check finds, after every oracle command', async () => {
  const wrong: string[] = [];
  let checked = 0;
  let dirty = 0;
  for (const f of readdirSync(ORACLE).filter((f) => f.endsWith('.json')).sort()) {
    const t = parseTranscript(readFileSync(join(ORACLE, f), 'utf8'), f);
    for (const B of [MemoryBackend, InPlaceBackend]) {
      const b = new B();
      const inner = b.execute.bind(b);
      b.execute = async (proc, command, args) => {
        const r = await inner(proc, command, args);
        for (const s of Object.keys(b.state).filter((s) => s !== HOST)) {
          const kept = [...baseDirty(b.state, s)].sort();
          const fresh = [...baseDirty(structuredClone(b.state), s)].sort();
          checked++;
          dirty += fresh.length;
          if (JSON.stringify(kept) !== JSON.stringify(fresh)) wrong.push(`${f} ${B.name} ${command}: kept ${kept}, fresh ${fresh}`);
        }
        return r;
      };
      await runOnModel(scenarioOf(t), b);
    }
  }
  console.log(`  ${checked} states checked, ${dirty} inconsistent nodes in them`);
  assert.ok(dirty > 0, 'states with inconsistent nodes were seen');
  assert.equal(wrong.slice(0, 3), []);
});

// --- random graphs

class Rnd {
  constructor(private s: number) {}
  next(): number { this.s = (this.s * 1103515245 + 12345) % 2 ** 31; return this.s / 2 ** 31; }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.next() < p; }
}

const DRIVERS = ['null-co', 'file', 'file', 'raw', 'raw', 'qcow2', 'qcow2', 'throttle', 'copy-on-read', 'blkdebug', 'quorum', 'copy-before-write', 'snapshot-access', 'commit_top', 'mirror_top'];
const ROLES = [ROLE_IMAGE, ROLE_FILTERED | ROLE_PRIMARY, ROLE_COW, ROLE_DATA, ROLE_METADATA, ROLE_METADATA | ROLE_PRIMARY];
const FILES = ['a.img', 'b.img', 'c.img'];

/** A random DAG in scope A (and a few lock holders in B): parents have higher indexes than their children. */
function randomState(r: Rnd): State {
  const d = new Draft({});
  const p = new Proc(d, 'A');
  const n = 3 + r.int(12);
  let at = 1;
  const names: string[] = [];
  for (const [proc, count] of [[p, n], [new Proc(d, 'B'), r.int(3)]] as const) {
    for (let i = 0; i < count; i++) {
      const driver = i < 2 ? r.pick(['file', 'null-co']) : r.pick(DRIVERS);
      const name = `${proc.name.toLowerCase()}${i}`;
      const node: BdsNode = {
        name, auto: false, driver, ro: r.chance(0.15), filename: driver === 'file' ? r.pick(FILES) : '', options: {}, monitor: true,
        implicit: false, neverFreeze: false, inheritsFrom: null, aio: 'main', size: r.pick([512, 4096, 65536, 1000]),
        align: driver === 'blkdebug' && r.chance(0.5) ? 4096 : 1, header: null,
        lock: driver === 'file' ? (r.chance(0.8) ? { perm: 0, shared: PERM_ALL } : null) : (r.chance(0.1) ? { perm: 0, shared: PERM_ALL } : null),
        forceShare: r.chance(0.1), order: at++,
        ...(driver === 'blkdebug' ? { extra: { take: r.int(16), unshare: r.int(16) } } : driver === 'quorum' ? { extra: { rewriteCorrupted: r.chance(0.5) } } : {}),
      };
      proc.putNode(node);
      if (proc === p) names.push(name);
    }
  }
  const edge = (parent: Edge['parent'], child: string, perm = 0, shared = PERM_ALL) => {
    const id = 'e' + at++;
    p.putEdge({ id, parent, name: r.pick(['file', 'backing', 'data-file', 'children.0', 'image']), child, role: r.pick(ROLES), perm, shared, frozen: false, at });
  };
  for (let i = 1; i < n; i++) {
    const k = r.int(3) + (i > 1 ? 1 : 0);
    for (let j = 0; j < k; j++) edge({ kind: 'node', node: names[i]! }, names[r.int(i)]!);
  }
  for (let j = r.int(3); j > 0; j--) edge({ kind: 'bb', bb: `bb${j}` }, r.pick(names), r.int(16), r.int(16));
  // settle: one full refresh from every node (kept only if it passes)
  d.attempt(() => refreshPermsFull(p, names), () => true);
  let s: State = {};
  for (const st of d.steps()) s = applyChanges(s, st.changes);
  return s;
}

/** Random changes made without a refresh: stale perms, flags, sizes, locks, new edges. */
function perturb(r: Rnd, p: Proc): void {
  const edges = p.edges();
  const nodes = p.nodes();
  for (let k = r.int(4); k > 0; k--) {
    const what = r.int(6);
    if (what === 0 && edges.length) { const e = r.pick(edges); p.patchEdge(e.id, { perm: r.int(16), shared: r.int(16) }); }
    else if (what === 1 && nodes.length) { const x = r.pick(nodes); p.patchNode(x.name, { ro: !p.node(x.name)!.ro }); }
    else if (what === 2 && nodes.length) { const x = r.pick(nodes); p.patchNode(x.name, { size: r.pick([512, 1000, 4096]) }); }
    else if (what === 3 && nodes.length) { const x = r.pick(nodes); if (p.node(x.name)!.lock) p.patchNode(x.name, { lock: { perm: r.int(16), shared: r.int(16) } }); }
    else if (what === 4 && nodes.length > 1) {
      // an edge between two nodes in index order (no cycle): parent has the higher index
      const i = 1 + r.int(nodes.length - 1);
      const id = 'x' + r.int(1e9);
      p.putEdge({ id, parent: { kind: 'node', node: nodes[i]!.name }, name: 'file', child: nodes[r.int(i)]!.name, role: r.pick(ROLES), perm: r.int(16), shared: r.int(16), frozen: false, at: 1000 + r.int(1000) });
    } else if (what === 5 && nodes.length) { const x = r.pick(nodes); p.patchNode(x.name, { forceShare: !p.node(x.name)!.forceShare }); }
  }
}

/** The error and the writes (in order) of one refresh run on `base` after the same random draft-side changes. */
function runOnce(base: State, seed: number, roots: string[], full: boolean): string {
  const d = new Draft(base);
  const p = new Proc(d, 'A');
  perturb(new Rnd(seed), p);
  d.step('refresh');
  let err = '';
  try {
    if (full) refreshPermsFull(p, roots);
    else refreshPerms(p, roots);
  } catch (e) {
    err = (e as Error).message;
  }
  return JSON.stringify({ err, writes: d.currentChanges().map((ch) => [ch.c, ch.id, ch.after]) });
}

/** Differences between the early stop and the full walk over `cases` random graphs. */
function differential(cases: number, seed: number): { mismatches: string[]; pruned: number; runs: number } {
  const r = new Rnd(seed);
  const mismatches: string[] = [];
  const pruned0 = earlyStop.pruned;
  let runs = 0;
  for (let c = 0; c < cases; c++) {
    let base = randomState(r);
    // stale state in the base too (what the base's dirty set must know), sometimes
    if (r.chance(0.5)) {
      const d = new Draft(base);
      perturb(r, new Proc(d, 'A'));
      for (const st of d.steps()) base = applyChanges(base, st.changes);
    }
    const names = new Proc(new Draft(base), 'A').nodes().map((n) => n.name);
    for (let k = 0; k < 6; k++) {
      const roots = Array.from({ length: 1 + r.int(3) }, () => r.pick(names));
      const s = r.int(1e9);
      const want = runOnce(base, s, roots, true);
      const got = runOnce(base, s, roots, false);
      runs++;
      if (want !== got) mismatches.push(`case ${c} roots ${JSON.stringify(roots)}\n  full  ${want}\n  early ${got}`);
    }
  }
  return { mismatches, pruned: earlyStop.pruned - pruned0, runs };
}

test('random graphs with stale perms: the early stop gives the full walk\'s error and writes', () => {
  const { mismatches, pruned, runs } = differential(1500, 20261202);
  console.log(`  ${runs} refreshes, ${pruned} stopped early, ${mismatches.length} mismatches`);
  assert.ok(pruned > 1000, `${pruned} refreshes stopped early`);
  assert.equal(mismatches.slice(0, 2), []);
});

test('the same random runs catch an early stop without either proof (the test has teeth)', () => {
  for (const skip of ['taint', 'order'] as const) {
    earlyStop.skipProofs = skip;
    try {
      const { mismatches } = differential(600, 20261202);
      console.log(`  without proof '${skip}': ${mismatches.length} mismatches`);
      assert.ok(mismatches.length > 0, `${mismatches.length} mismatches found without proof '${skip}'`);
    } finally {
      earlyStop.skipProofs = false;
    }
  }
});

test.run();
