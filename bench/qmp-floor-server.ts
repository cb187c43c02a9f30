// Floors for a sequential QMP command on this machine (bench/qmp-stages.ts), each a server on a
// unix socket driven by the same client as `npm run bench:qmp`:
//   echo     a bare node net server answering every line with a QMP-sized reply: Node's own floor
//   session  the QMP session (lexer, parser, request decoding, reply encoding, corked write) over a
//            backend that answers at once: "QMP parse + reply only"
//   memory   the engine (model, digest, record encoding, fold) on memory-level: everything but
//            classic-level and the fsync
//   nosync   the engine on classic-level without syncing its batches: everything but the fsync
// node --import tsx bench/qmp-floor-server.ts MODE SOCKET [DB]
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { ModelBackend } from '../commands/model-host.js';
import type { ExecResult } from '../commands/model.js';
import { Engine } from '../engine/engine.js';
import { listenQmp } from '../qmp/server.js';
import { openClassic, openMemory } from '../store/index.js';

const [mode, sock] = process.argv.slice(2);
if (!mode || !sock) throw new Error('usage: qmp-floor-server.ts echo|session|memory|nosync SOCKET');

if (mode === 'echo') {
  // one line in, one reply out, as a QMP server answers blockdev-add ({"return": {}, "id": N})
  const server = createServer((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) s.write(`{"return": {}, "id": ${++n}}\r\n`);
    });
    s.on('error', () => undefined);
  });
  server.listen(sock);
  // the client's greeting and qmp_capabilities: the same Client as the other servers
  server.on('connection', (s) => s.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n'));
  process.on('SIGTERM', () => process.exit(0));
} else {
  let backend: ModelBackend;
  if (mode === 'session') {
    const answer = { reply: { return: {} }, events: [], mutates: false, steps: [], state: {} } as unknown as ExecResult;
    backend = { state: {}, execute: () => Promise.resolve(answer) };
  } else if (mode === 'memory') {
    backend = await Engine.open(await openMemory());
  } else if (mode === 'nosync') {
    const log = await openClassic(process.argv[4] ?? join(mkdtempSync(join(tmpdir(), 'bg-floor-')), 'db'));
    const e = await Engine.open(log);
    // every batch unsynced: the engine asks for sync on the decision; the log is told not to
    const ap = log as unknown as Record<'appendNow' | 'appendRawNow', (r: unknown, o: Record<string, unknown>) => unknown>;
    for (const m of ['appendNow', 'appendRawNow'] as const) {
      const orig = ap[m].bind(log);
      ap[m] = (r, o) => orig(r, { ...o, sync: false });
    }
    backend = e;
  } else throw new Error(`unknown mode ${mode}`);
  const server = await listenQmp(backend, sock);
  process.on('SIGTERM', () => { void server.stop().then(() => process.exit(0)); });
}
