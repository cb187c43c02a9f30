// A seek on a store a server holds fetches only what it folds (store/live.ts dumpSeek): the
// entries sent are the same on a 16k-record log as on a 4k one, while the full dump grows with
// the log; and the seek's answer is the full dump's. Work counted (dumpWork), never timed.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLog } from '../../bench/build-log.js';
import { stateHash } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { openClassic, serveStoreReads, type EventLog } from '../../store/index.js';
import { dumpWork, openLive } from '../../store/live.js';
import { tempDir } from '../engine/helpers.js';

const t = tempDir('bg-liveseek-');
const served: Array<{ log: EventLog; close: () => void; dir: string }> = [];

async function serve(name: string, records: number): Promise<{ log: EventLog; dir: string }> {
  const dir = join(t.dir, name);
  const b = await openClassic(dir);
  await buildLog(b, { records, base: 10 });
  await b.close();
  const log = await openClassic(dir);
  const srv = await serveStoreReads(() => log, dir);
  served.push({ log, close: srv.close, dir });
  return { log, dir };
}

async function seekAt(dir: string, seq: number | undefined): Promise<{ entries: number; hash: string; seq: number }> {
  const log = await openLive(dir, { verify: 'since-snapshot', ...(seq !== undefined ? { seek: [seq] } : {}) });
  assert.ok(log);
  const entries = dumpWork.entries;
  const f = await replay(log!, { upTo: seq });
  await log!.close();
  return { entries, hash: stateHash(f.state), seq: f.seq };
}

let small: { log: EventLog; dir: string };
let big: { log: EventLog; dir: string };
test.before(async () => {
  small = await serve('small', 4_000);
  big = await serve('big', 16_000);
});
test.after(async () => {
  for (const s of served) { s.close(); await s.log.close(); }
  t.done();
});

test('a seek through the server gives the full dump\'s state and sends the same work at 4k and 16k records', async () => {
  const counts: number[] = [];
  const fulls: number[] = [];
  for (const s of [small, big]) {
    fulls.push((await seekAt(s.dir, undefined)).entries);
    for (const at of [7, Math.floor(s.log.head / 2) + 3, s.log.head]) {
      const full = await seekAt(s.dir, undefined);
      const fullAt = await (async () => {
        const log = await openLive(s.dir, { verify: 'since-snapshot' });
        const f = await replay(log!, { upTo: at });
        await log!.close();
        return stateHash(f.state);
      })();
      const seek = await seekAt(s.dir, at);
      assert.is(seek.seq, at);
      assert.is(seek.hash, fullAt, `state at ${at}`);
      assert.ok(full.entries > s.log.head, `the full dump sends every record (${full.entries})`);
      // meta + the newest snapshot and the records after it + the seek's snapshot and records
      assert.ok(seek.entries <= 2 * 1000 + 60, `seek to ${at} sent ${seek.entries} entries`);
      counts.push(seek.entries);
    }
  }
  // The bound above is one constant for both sizes (two snapshot cadences); the full dump is not.
  assert.ok(fulls[1]! > 3 * fulls[0]!, `full dumps ${fulls.join(' / ')}`);
});

test('a bad seek request is refused, not served', async () => {
  const { createConnection } = await import('node:net');
  const { readFileSync } = await import('node:fs');
  const info = JSON.parse(readFileSync(join(small.dir, 'blockgraph-live.json'), 'utf8')) as { socket: string };
  for (const req of [{ op: 'dump', seek: [] }, { op: 'dump', seek: ['x'] }, { op: 'dump', seek: new Array(17).fill(1) }, { op: 'dump', seek: [-1] }]) {
    const reply = await new Promise<string>((res) => {
      const sock = createConnection(info.socket);
      let buf = '';
      sock.on('data', (b) => { buf += b; });
      sock.on('close', () => res(buf));
      sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    });
    assert.match(reply, /"error"/, JSON.stringify(req));
  }
});

test.run();
