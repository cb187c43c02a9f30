// `--at TIME` resolves by binary search over seqs: the same seq a scan gives (computed here from
// the times the spec wrote, not by the code under test), in at most ceil(log2(head + 1)) single
// record reads (counted), whatever the log's length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openMemory } from '../../store/index.js';
import { seqAtTime, seqAtTimeWork } from '../../replay/replay.js';

const iso = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

async function logWithTimes(times: number[]) {
  const log = await openMemory();
  for (let i = 0; i < times.length; i += 500) {
    await log.append(times.slice(i, i + 500).map((s) => ({ stream: 'A', type: 'note', at: iso(s), data: null })));
  }
  return log;
}

/** The scan's answer: the seq before the first record later than `t`. */
function scan(times: number[], t: string): number {
  let last = 0;
  for (let i = 0; i < times.length; i++) { if (iso(times[i]!) > t) break; last = i + 1; }
  return last;
}

test('the same seq as a scan, at every boundary, with runs of equal times', async () => {
  const times: number[] = [];
  for (let i = 0, s = 10; i < 3000; i++) { times.push(s); if (i % 7 === 0) s += 1 + (i % 3); }
  const log = await logWithTimes(times);
  const probes = [0, 9, 10, 11, 12, 500, 777, 1200, times[times.length - 1]!, times[times.length - 1]! + 1, 99999];
  for (const p of probes) {
    const t = iso(p);
    assert.is(await seqAtTime(log, t), scan(times, t), t);
    assert.ok(seqAtTimeWork.reads <= Math.ceil(Math.log2(times.length + 1)), `${seqAtTimeWork.reads} reads`);
  }
  // between two stamps (a time with milliseconds)
  const mid = new Date(Date.parse(iso(500)) + 500).toISOString();
  assert.is(await seqAtTime(log, mid), scan(times, mid));
  await log.close();
});

test('reads grow with log2 of the length, not the length', async () => {
  const reads: number[] = [];
  for (const n of [1000, 8000]) {
    const times = Array.from({ length: n }, (_, i) => i);
    const log = await logWithTimes(times);
    await seqAtTime(log, iso(Math.floor(n * 0.7)));
    reads.push(seqAtTimeWork.reads);
    await log.close();
  }
  assert.ok(reads[1]! - reads[0]! <= 3, String(reads));
});

test('an empty log: 0, nothing read', async () => {
  const log = await openMemory();
  assert.is(await seqAtTime(log, iso(5)), 0);
  assert.is(seqAtTimeWork.reads, 0);
  await log.close();
});

test.run();
