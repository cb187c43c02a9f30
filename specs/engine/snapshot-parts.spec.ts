// Snapshots of a big state are written in parts, PART_ENTITIES per command, so no command
// encodes the whole state. The state a parted snapshot gives back is byte for byte (canonical
// JSON) the state a fold from seq 1 gives at its seq (computed by replay, not by the build),
// while commands changed and deleted entities during the build; a damaged part makes the
// snapshot damaged (skipped for an older one, reported by the store check). Counted, not timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, loadFold } from '../../engine/index.js';
import { buildWork, PART_ENTITIES } from '../../engine/snapshot-build.js';
import { digestHex, stateDigest } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { canonicalJson, sublevelsOf } from '../../store/codec.js';
import { checkSnapshots } from '../../store/check.js';
import { openMemory, partsWork, type EventLog } from '../../store/index.js';
import { partsSublevel } from '../../store/snapshot-parts.js';

async function bigLog(nodes: number, snapshotEvery: number) {
  const log = await openMemory();
  const e = await Engine.open(log, { snapshotEvery });
  let maxSlice = 0;
  const run = async (cmd: string, args: Record<string, unknown>) => {
    buildWork.lastSlice = 0;
    const r = await e.execute('A', cmd, args);
    if ('error' in r.reply) throw new Error(`${cmd}: ${r.reply.error.desc}`);
    maxSlice = Math.max(maxSlice, buildWork.lastSlice);
  };
  for (let i = 0; i < nodes; i++) await run('blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  // During the builds: delete old nodes, add raw nodes over others (edges), so kept values matter.
  for (let i = 0; i < nodes / 2; i++) {
    await run('blockdev-del', { 'node-name': `n${i}` });
    await run('blockdev-add', { driver: 'raw', 'node-name': `r${i}`, file: `n${nodes - 1 - i}` });
  }
  await e.log.whenWritten();
  return { log, e, maxSlice };
}

async function snapshotSeqs(log: EventLog): Promise<number[]> {
  const out: number[] = [];
  for await (const k of sublevelsOf(log.db).snap.keys()) out.push(parseInt(k, 16));
  return out;
}

async function partedSeqs(log: EventLog): Promise<Set<number>> {
  const s = new Set<number>();
  for await (const k of partsSublevel(log.db).keys()) s.add(parseInt(k.slice(0, 16), 16));
  return s;
}

test('a parted snapshot gives the state of its seq, byte for byte, while the graph changed during its build', async () => {
  const { log } = await bigLog(400, 300);
  const parted = await partedSeqs(log);
  const snaps = (await snapshotSeqs(log)).filter((s) => parted.has(s));
  assert.ok(snaps.length >= 2, `parted snapshots: ${snaps.join(',')}`);
  for (const seq of snaps) {
    const snap = (await log.latestSnapshot(seq))!;
    assert.is(snap.seq, seq);
    assert.ok(partsWork.parts > 1, `${partsWork.parts} parts`);
    const scratch = await replay(log, { upTo: seq, fromScratch: true });
    assert.is(canonicalJson(snap.state), canonicalJson(scratch.state), `seq ${seq}`);
    assert.is(snap.stateHash, digestHex(stateDigest(scratch.state)));
    // keys in canonical order at every level, as a full snapshot's JSON.parse gives them
    assert.is(JSON.stringify(snap.state), canonicalJson(snap.state));
  }
  // The engine reopens from it: the same state as a fold from scratch.
  const fold = await loadFold(log);
  assert.is(canonicalJson(fold.state), canonicalJson((await replay(log, { fromScratch: true })).state));
  await log.close();
});

test('no command encodes more than PART_ENTITIES entities, at 300 nodes as at 900', async () => {
  for (const n of [300, 900]) {
    const { log, maxSlice } = await bigLog(n, 400);
    assert.ok(maxSlice > 0 && maxSlice <= PART_ENTITIES, `${n} nodes: ${maxSlice}`);
    assert.ok((await partedSeqs(log)).size > 0);
    await log.close();
  }
});

test('a missing or damaged part: the snapshot is damaged, skipped for an older one, and reported', async () => {
  const { log } = await bigLog(400, 300);
  const parted = [...(await partedSeqs(log))].sort((a, b) => a - b);
  const newest = parted[parted.length - 1]!;
  const parts = partsSublevel(log.db);
  const keys: string[] = [];
  for await (const k of parts.keys()) if (parseInt(k.slice(0, 16), 16) === newest) keys.push(k);
  await parts.put(keys[1]!, 'garbage');
  let err: unknown;
  await log.latestSnapshot(newest).catch((e: unknown) => (err = e));
  assert.is((err as { code?: string }).code, 'BG_SNAPSHOT_CORRUPT');
  const s = (await log.latestSnapshot(newest, { skipCorrupt: true }))!;
  assert.ok(s.seq < newest && s.skipped.some((k) => k.seq === newest));
  assert.is(canonicalJson(s.state), canonicalJson((await replay(log, { upTo: s.seq, fromScratch: true })).state));
  const check = await checkSnapshots(sublevelsOf(log.db));
  assert.ok(check.damaged.some((d) => d.seq === newest), JSON.stringify(check.damaged));
  await parts.del(keys[1]!);
  const check2 = await checkSnapshots(sublevelsOf(log.db));
  assert.ok(check2.damaged.some((d) => d.seq === newest && /missing|\d+ of \d+ parts found/.test(d.reason)), JSON.stringify(check2.damaged));
  await log.close();
});

test.run();
