// Garbage on a QMP connection and the log (hostile round 9): QEMU answers every invalid token
// and every value that is not a request with its own error, and so does the model, byte for
// byte; but a record per refusal made 100 KB of 0xFF into 102 400 records (13 MB of store: 130
// bytes of log per byte read). A run of refusals read together is now one record
// (qmp/session.ts refusalRun) with their count and the sha256 of the replies written for it, so
// the log stays smaller than the garbage and still accounts for every answered refusal.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { excerptWork } from '../../qmp/json-reader.js';
import { serveQmp } from '../../qmp/server.js';
import { stateHash } from '../../graph/hash.js';
import { auditRows, outcomeText } from '../../replay/audit.js';
import { openMemory } from '../../store/index.js';
import type { LogRecord } from '../../store/types.js';

/** Feeds `chunks` to a fresh session on an in-memory store; the reply text, the records, the engine. */
async function session(chunks: (string | Buffer)[]) {
  const log = await openMemory();
  const engine = await Engine.open(log);
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (b: Buffer) => { text += b.toString('latin1'); });
  const served = serveQmp(engine, input, output, { now: () => 0, reject: (p, d) => engine.reject(p, d) });
  for (const c of chunks) input.write(c);
  input.end();
  await served;
  const recs = await log.readAll();
  return { text, recs, engine, log };
}

const CAPS = '{"execute":"qmp_capabilities"}\n';
const ADD = '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}\n';

/** Every error reply is a refusal here; the log must hold each, in order, digest for digest. */
function accountFor(text: string, recs: LogRecord[]): { refusals: number; records: number; bytes: number } {
  const lines = text.split('\r\n');
  assert.is(lines.pop(), '');
  // QDict order puts an id before or after the error: the reply is parsed to tell
  const refusals = lines.filter((l) => l.includes('"error": ') && 'error' in JSON.parse(l));
  const rejected = recs.filter((r) => r.type === 'command.rejected');
  let at = 0;
  for (const r of rejected) {
    const d = r.data as { count?: number; replies?: string };
    const n = d.count ?? 1;
    const mine = refusals.slice(at, at + n);
    assert.is(mine.length, n, `record ${r.seq}: ${n} refusals answered`);
    if (n > 1) assert.is(d.replies, createHash('sha256').update(mine.map((l) => l + '\r\n').join('')).digest('hex'), `record ${r.seq}: the digest of its replies`);
    at += n;
  }
  assert.is(at, refusals.length, 'every answered refusal is accounted for in the log');
  return { refusals: refusals.length, records: rejected.length, bytes: rejected.reduce((s, r) => s + JSON.stringify(r).length, 0) };
}

test('100 KB of 0xFF: 102 400 refusals answered, a hundred records, a log smaller than the input', async () => {
  const garbage = Buffer.alloc(100 << 10, 0xff);
  const { text, recs } = await session([CAPS, garbage, '\n{"execute":"query-jobs"}\n']);
  const f = accountFor(text, recs);
  assert.is(f.refusals, 102_400, 'one reply per byte, as QSD (json-streamer.c: one error per invalid token)');
  assert.ok(f.records <= 102_400 / 1024 + 1, `${f.records} records`);
  assert.ok(f.bytes < garbage.length, `${f.bytes} bytes of records for ${garbage.length} of garbage`);
  assert.ok(text.endsWith('{"return": []}\r\n'), 'the command after the garbage is answered');
});

test('values that are not requests, with and without ids, and seeded random bytes: bounded and accounted for', async () => {
  let x = 7;
  const rnd = Buffer.alloc(256 << 10);
  for (let i = 0; i < rnd.length; i++) { x = (x * 1103515245 + 12345) % 2 ** 31; rnd[i] = (x >> 16) & 255; }
  const cases: [string, string | Buffer][] = [
    ['{}', '{}'.repeat(50_000)],
    ['{"id":1}', '{"id":1}'.repeat(12_500)],
    ['[1] "s" 2', '[1] "s" 2 '.repeat(10_000)],
    ['random', rnd],
  ];
  for (const [name, garbage] of cases) {
    const { text, recs } = await session([CAPS, garbage, '\n{"execute":"query-jobs","id":"end"}\n']);
    const f = accountFor(text, recs);
    assert.ok(f.refusals >= 10_000, `${name}: ${f.refusals} refusals`);
    assert.ok(f.bytes < garbage.length, `${name}: ${f.records} records, ${f.bytes} bytes for ${garbage.length} of input`);
    assert.ok(text.endsWith('{"return": [], "id": "end"}\r\n'), `${name}: answered after`);
    for (const r of recs) assert.ok(JSON.stringify(r.data).length < 4096, `${name}: record ${r.seq} is bounded`);
  }
});

test('a refusal read alone is the record it always was; a run keeps the first id and the other errors', async () => {
  const { text, recs } = await session([CAPS, '{"id":"alone","bogus":1}\n']);
  accountFor(text, recs);
  const one = recs.filter((r) => r.type === 'command.rejected');
  assert.equal(one.map((r) => r.data), [{ input: '{"id":"alone","bogus":1}', bytes: 24, error: { class: 'GenericError', desc: "QMP input member 'bogus' is unexpected" }, id: 'alone' }]);

  const decoded = excerptWork.decoded;
  const run = await session([CAPS, '{"id":"a"} ] 5 {} [[]] ]\n']);
  assert.is(excerptWork.decoded - decoded, 1, "one excerpt decoded for the run's record, not one per refusal");
  accountFor(run.text, run.recs);
  const r = run.recs.filter((x) => x.type === 'command.rejected');
  assert.is(r.length, 1);
  const d = r[0]!.data as Record<string, unknown>;
  assert.is(d.count, 6);
  assert.is(d.id, 'a');
  assert.equal(d.error, { class: 'GenericError', desc: "QMP input lacks member 'execute'" }, '{} lacks it too: counted with the first');
  assert.equal(d.also, [
    { error: { class: 'GenericError', desc: "JSON parse error, expecting value" }, count: 2 },
    { error: { class: 'GenericError', desc: 'QMP input must be a JSON object' }, count: 2 },
  ]);
});

test('the state replays the same from a log with refusal runs, and the audit counts them', async () => {
  const { recs, engine, log } = await session([CAPS, ADD, Buffer.alloc(5000, 0xff), '{}'.repeat(3000), '\n{"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}\n']);
  const again = await Engine.open(log);
  assert.is(stateHash(again.state), stateHash(engine.state));
  assert.equal(Object.keys(again.state.A!.nodes!), ['n0']);
  const counted = recs.filter((r) => r.type === 'command.rejected').reduce((s, r) => s + ((r.data as { count?: number }).count ?? 1), 0);
  assert.is(counted, 5000 + 3000 + 1);
  const rows = auditRows(recs).filter((r) => r.kind === 'rejected');
  assert.equal(rows.map((r) => r.count ?? 1).reduce((a, b) => a + b, 0), counted, 'the audit counts every refusal');
  assert.match(outcomeText(rows[0]!), /^rejected ×\d+: JSON parse error/);
  assert.is(rows[rows.length - 1]!.count, undefined, 'the lone refusal of a command is a row of one');
});

test.run();
