// QMP under load from hostile clients, against `blockgraph qmp --db DIR --socket PATH` and a live
// qemu-storage-daemon (`--chardev socket,server=on --monitor`), one fresh server per case:
//   c200        200 clients connect at once; each negotiates, asks query-version, leaves
//   slowloris   a client sends a command one byte per second (then the rest at once)
//   noread      thousands of nodes built through QMP, then a client asks query-named-block-nodes
//               (~10 MB) and never reads
//   halfclose   a client sends a command and shuts its write side down (FIN), then reads
//   cuts        100 clients each leave mid-greeting, mid-capabilities (half a request, and a whole
//               one before its reply), mid-reply (after 1000 bytes of the schema)
//   garbage     1 MB of letters without a newline (one 1 MB token), then a command
//   binary      1 MB of seeded random bytes without a newline, then a command
//   nested      100 000 `[`, then a command
//   utf8        invalid UTF-8 in strings, then 1 MB of 0xFF outside them (an error per byte)
//   stdio       halfclose, garbage, nested, utf8 on stdio (`blockgraph qmp --db` and `--chardev
//               stdio`), stdin closed after them
// Meanwhile a second client's round trip (connect, negotiate, query-version) is measured every
// 250 ms (none while QSD's one client slot is held: "blocked"), the server's RSS sampled every
// 100 ms; after each case the server must still answer. What the bad client read is compared
// byte for byte with QSD's (timestamps, package and #blockN normalised) where the input decides
// it; the model's stderr notes are its reported reasons.
//
//   node --import tsx scripts/hostile-qmp-load.ts [--qemu 10.0] [--nodes N] [--slow S] [CASE ...]
//
// Exit 1 if the model died, stopped serving, grew by more than 300 MB, or answered differently.
// Figures: docs/hostile.md "Stop 35".
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { qmpExchange as exchange, waitForSocket as waitFor } from './qmp-exchange.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = argv.indexOf(name); if (i < 0) return dflt; const v = argv[i + 1]!; argv.splice(i, 2); return v; };
const v10 = opt('--qemu', '7.2') === '10.0';
const NODES = Number(opt('--nodes', '6000'));
const SLOW_S = Number(opt('--slow', '10'));
const want = argv;
const on = (c: string) => want.length === 0 || want.includes(c);
const root = mkdtempSync(join(tmpdir(), 'bg-hostile-load-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NEG = '{"execute":"qmp_capabilities"}';
const AFTER = '{"execute":"query-version","id":"after"}';

const rssMb = (pid: number) => { try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024; } catch { return NaN; } };
const fds = (pid: number) => { try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return NaN; } };

// every server this script starts is ended with it, whatever ends it
const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); rmSync(root, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const track = (c: ChildProcess) => { children.add(c); c.once('exit', () => children.delete(c)); return c; };

interface Server { name: string; sock: string; proc: ChildProcess; err: () => string; stop: () => Promise<void> }
let nth = 0;
async function startModel(): Promise<Server> {
  const n = nth++;
  const sock = join(root, `model${n}.sock`);
  const proc = track(spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(root, `db${n}`), '--socket', sock, ...(v10 ? ['--qemu', '10.0'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; if (err.length > 1e6) err = err.slice(-1e5); });
  await waitFor(sock);
  return { name: 'model', sock, proc, err: () => err, stop: () => stopProc(proc) };
}
const qsdBin = v10 ? join(process.env.BLOCKGRAPH_QEMU_10_0_DIR ?? join(homedir(), '.cache/blockgraph/qemu-10.0/usr/bin'), 'qemu-storage-daemon') : 'qemu-storage-daemon';
async function startQsd(): Promise<Server> {
  const sock = join(root, `qsd${nth++}.sock`);
  const proc = track(spawn(qsdBin, ['--chardev', `socket,path=${sock},server=on,wait=off,id=m`, '--monitor', 'm'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; });
  await waitFor(sock);
  return { name: 'qsd', sock, proc, err: () => err, stop: () => stopProc(proc) };
}
async function stopProc(p: ChildProcess) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await new Promise((r) => p.once('exit', r));
  clearTimeout(t);
}


/** Sends bytes after the greeting; gathers everything until the server closes or falls quiet. */
function collect(path: string, parts: (Buffer | string)[], opts: { quietMs: number; halfClose?: boolean; gapMs?: number; maxMs?: number; until?: RegExp }): Promise<{ text: string; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const s = connect(path);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let sending = false, sentAll = false, closedByServer = false;
    const t0 = Date.now();
    const finish = () => { clearTimeout(timer); clearTimeout(cap); s.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer, ms: Date.now() - t0 }); };
    const arm = () => { clearTimeout(timer); if (sentAll) timer = setTimeout(finish, opts.quietMs); };
    const cap = setTimeout(finish, opts.maxMs ?? 300_000);
    s.on('data', (d) => {
      chunks.push(d);
      if (!sending) {
        sending = true;
        void (async () => {
          for (const p of parts) { if (s.destroyed) return; s.write(p); if (opts.gapMs) await sleep(opts.gapMs); }
          if (opts.halfClose) s.end();
          sentAll = true; arm();
        })();
      }
      if (opts.until && opts.until.test(d.toString('latin1').slice(-200))) { finish(); return; }
      arm();
    });
    s.on('end', () => { closedByServer = true; });
    s.on('error', () => finish());
    s.on('close', () => finish());
  });
}

const normalise = (text: string) => text
  .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/g, '"timestamp": T')
  .replace(/"package": "[^"]*"/g, '"package": P')
  .replace(/"qemu": \{"micro": \d+, "minor": \d+, "major": \d+\}/g, '"qemu": V')
  .replace(/#block\d+/g, '#blockN');
const digest = (t: string) => createHash('sha1').update(normalise(t)).digest('hex').slice(0, 10);

/** The load around one bad client: RSS samples, a second client's round trips. */
class Watch {
  rssMax = 0;
  /** RSS when the bad client came (the server's own state: thousands of nodes for noread). */
  readonly rss0: number;
  rtts: number[] = [];
  blocked = 0;
  private stopped = false;
  private readonly sampler: NodeJS.Timeout;
  private readonly prober: Promise<void>;
  constructor(s: Server) {
    this.rss0 = rssMb(s.proc.pid!) || 0;
    this.sampler = setInterval(() => { this.rssMax = Math.max(this.rssMax, rssMb(s.proc.pid!) || 0); }, 100);
    this.prober = (async () => {
      while (!this.stopped) {
        const t0 = Date.now();
        try { await exchange(s.sock, ['{"execute":"query-version"}'], 3000); this.rtts.push(Date.now() - t0); } catch { this.blocked++; }
        await sleep(250);
      }
    })();
  }
  async end(): Promise<string> {
    this.stopped = true;
    clearInterval(this.sampler);
    await this.prober;
    const r = [...this.rtts].sort((a, b) => a - b);
    const p = (q: number) => (r.length ? r[Math.min(r.length - 1, Math.floor(q * r.length))] : NaN);
    return `${r.length} served (median ${p(0.5)} ms, max ${r[r.length - 1] ?? '-'} ms), ${this.blocked} blocked`;
  }
}

interface Row { kase: string; server: string; bad: string; others: string; rss: string; after: string; same?: string; notes?: string }
const rows: Row[] = [];
let failures = 0;

async function afterCheck(s: Server): Promise<string> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return `DIED (${s.proc.exitCode ?? s.proc.signalCode})`;
  try { await exchange(s.sock, ['{"execute":"query-version"}'], 30_000); return `alive, ${fds(s.proc.pid!)} fds`; } catch (e) { return `NO ANSWER (${(e as Error).message})`; }
}

type Bad = (s: Server) => Promise<{ bad: string; text?: string }>;
async function runCase(kase: string, bad: Bad, opts: { prepare?: (s: Server) => Promise<void>; compare?: boolean } = {}) {
  console.log(`${kase} …`);
  const texts: Record<string, string> = {};
  for (const start of [startModel, startQsd]) {
    const s = await start();
    try {
      if (opts.prepare) await opts.prepare(s);
      const w = new Watch(s);
      const t0 = Date.now();
      const r = await bad(s).catch((e: Error) => ({ bad: `client error: ${e.message}`, text: undefined }));
      const ms = Date.now() - t0;
      await sleep(300);
      const others = await w.end();
      const after = await afterCheck(s);
      if (r.text !== undefined) texts[s.name] = r.text;
      const notes = s.name === 'model' ? [...new Set(s.err().split('\n').filter((l) => l && !l.startsWith('blockgraph: QMP on ')).map((l) => l.replace(/\d+/g, 'N')))].slice(0, 3).join(' | ') : '';
      rows.push({ kase, server: s.name, bad: `${r.bad} (${(ms / 1000).toFixed(1)} s)`, others, rss: `${w.rss0.toFixed(0)} → ${w.rssMax.toFixed(0)} MB`, after, notes });
      if (s.name === 'model' && (!after.startsWith('alive') || w.rssMax - w.rss0 > 300)) failures++;
      console.log(`  ${s.name}: ${r.bad}; others: ${others}; RSS ${w.rss0.toFixed(0)} → max ${w.rssMax.toFixed(0)} MB; after: ${after}${notes ? `; notes: ${notes}` : ''}`);
    } finally {
      await s.stop();
    }
  }
  if (opts.compare && texts.model !== undefined && texts.qsd !== undefined) {
    const a = normalise(texts.qsd).split('\r\n'), m = normalise(texts.model).split('\r\n');
    const same = a.length === m.length && a.every((l, i) => l === m[i]);
    if (!same) failures++;
    const row = rows[rows.length - 2]!;
    row.same = same ? `same (${a.length - 1} lines, ${digest(texts.qsd)})` : `DIFF (qsd ${a.length - 1} lines ${digest(texts.qsd)}, model ${m.length - 1} ${digest(texts.model)})`;
    console.log(`  compare: ${row.same}`);
    if (!same) {
      for (let i = 0, shown = 0; i < Math.max(a.length, m.length) && shown < 6; i++) {
        if (a[i] !== m[i]) { shown++; console.log(`   ${i}: qsd   ${(a[i] ?? '<none>').slice(0, 240)}\n   ${i}: model ${(m[i] ?? '<none>').slice(0, 240)}`); }
      }
    }
  }
}

const lines = (t: string) => t.split('\r\n').filter(Boolean).length;
const summary = (r: { text: string; closedByServer: boolean }) => `${lines(r.text)} lines read, ${r.closedByServer ? 'closed by the server' : 'left open'}`;

// ---------------------------------------------------------------------------------------------
if (on('c200')) {
  await runCase('c200', async (s) => {
    let ok = 0, failed = 0;
    const errs = new Set<string>();
    await Promise.all(Array.from({ length: 200 }, () => exchange(s.sock, ['{"execute":"query-version"}'], 120_000)
      .then(() => { ok++; }, (e: Error) => { failed++; errs.add(e.message.replace(/\d+/g, 'N')); })));
    return { bad: `${ok} of 200 served${failed ? `, ${failed} failed (${[...errs].join('; ')})` : ''}` };
  });
}

if (on('slowloris')) {
  const cmd = '{"execute":"query-version","id":"slow"}';
  await runCase('slowloris', async (s) => {
    const parts = [NEG, ...cmd.slice(0, SLOW_S).split(''), cmd.slice(SLOW_S)];
    const r = await collect(s.sock, parts, { quietMs: 1000, gapMs: 1000 });
    return { bad: `${summary(r)}${r.text.includes('"id": "slow"') ? ', answered' : ', NOT answered'}`, text: r.text };
  }, { compare: true });
}

if (on('noread')) {
  let replyBytes = 0;
  const build = async (s: Server) => {
    // pipelined blockdev-adds on one connection, then it leaves (QSD serves one client at a time)
    await new Promise<void>((resolve, reject) => {
      const c = connect(s.sock);
      let got = 0, buf = '';
      c.on('data', (d) => {
        buf += d.toString('latin1');
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 2);
          if (line.includes('"error"')) { c.destroy(); reject(new Error(line)); return; }
          if (++got === NODES + 2) { c.destroy(); resolve(); }
        }
      });
      c.write(NEG + Array.from({ length: NODES }, (_, k) => `{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n${k}","size":1048576}}`).join(''));
      c.on('error', reject);
    });
    const t0 = Date.now();
    const r = await collect(s.sock, [NEG, '{"execute":"query-named-block-nodes","id":"size"}'], { quietMs: 600_000, until: /"id": "size"\}\r\n$/ });
    replyBytes = r.text.length;
    console.log(`  ${s.name}: ${NODES} nodes built; query-named-block-nodes answered ${(replyBytes / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms (a reading client)`);
  };
  await runCase('noread', async (s) => {
    const c: Socket = connect(s.sock);
    c.pause();
    let closedAt = 0;
    c.on('error', () => undefined);
    c.on('close', () => { closedAt = Date.now(); });
    await sleep(200);
    const t0 = Date.now();
    c.write(NEG + '{"execute":"query-named-block-nodes"}'.repeat(3));
    await sleep(15_000);
    const kept = closedAt ? `cut after ${closedAt - t0} ms` : 'kept for 15 s';
    c.destroy();
    return { bad: `3 × ${(replyBytes / 1e6).toFixed(1)} MB asked, never read: ${kept}` };
  }, { prepare: build });
}

if (on('halfclose')) {
  await runCase('halfclose', async (s) => {
    const r = await collect(s.sock, [NEG, '{"execute":"query-version","id":1}{"execute":"query-jobs","id":2}'], { quietMs: 1500, halfClose: true });
    return { bad: summary(r), text: r.text };
  }, { compare: true });
}

if (on('cuts')) {
  await runCase('cuts', async (s) => {
    const tally: Record<string, number> = {};
    const one = (what: string, send: string, leaveAfter: number) => new Promise<void>((resolve) => {
      const c = connect(s.sock);
      let n = 0;
      const done = () => { tally[what] = (tally[what] ?? 0) + 1; resolve(); };
      if (leaveAfter < 0) c.once('connect', () => c.destroy());
      c.on('data', (d) => {
        if (n === 0 && send) c.write(send, () => { if (leaveAfter === 0) c.destroy(); });
        n += d.length;
        if (leaveAfter > 0 && n >= leaveAfter) c.destroy();
      });
      c.on('close', done);
      c.on('error', () => undefined);
      setTimeout(() => c.destroy(), 10_000);
    });
    for (let i = 0; i < 100; i++) {
      await one('greeting', '', -1);
      await one('half caps', '{"execute":"qmp_capab', 0);
      await one('caps unanswered', NEG, 0);
      await one('mid-reply', NEG + '{"execute":"query-qmp-schema"}', 1000);
    }
    return { bad: Object.entries(tally).map(([k, v]) => `${v} ${k}`).join(', ') };
  });
}

if (on('garbage')) {
  await runCase('garbage', async (s) => {
    const r = await collect(s.sock, [NEG, 'x'.repeat(1 << 20), AFTER], { quietMs: 15_000 });
    return { bad: summary(r), text: r.text };
  }, { compare: true });
}

if (on('binary')) {
  let seed = 35;
  const bytes = Buffer.alloc(1 << 20);
  for (let i = 0; i < bytes.length; i++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; bytes[i] = (seed >> 16) & 0xff; }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x20; // no newline
  await runCase('binary', async (s) => {
    const r = await collect(s.sock, [NEG, bytes, AFTER], { quietMs: 5000 });
    return { bad: summary(r), text: r.text };
  }, { compare: true });
}

if (on('nested')) {
  await runCase('nested', async (s) => {
    const r = await collect(s.sock, [NEG, '['.repeat(100_000), AFTER], { quietMs: 3000 });
    return { bad: summary(r), text: r.text };
  }, { compare: true });
}

if (on('utf8')) {
  const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  await runCase('utf8', async (s) => {
    const r = await collect(s.sock, [NEG, b('{"execute":"query-version","id":"', [0xff, 0xc3], '"}'), b('{"execute":"qu', [0xe9], 'ry-version"}'), Buffer.alloc(1 << 20, 0xff), AFTER], { quietMs: 5000 });
    return { bad: summary(r), text: r.text };
  }, { compare: true });
}

// ---------------------------------------------------------------------------------------------
// stdio: the same bytes into `blockgraph qmp --db DIR` and `qemu-storage-daemon --chardev stdio`,
// stdin then closed (EOF); everything written back until the process falls quiet is compared.
async function runStdio(kase: string, parts: (Buffer | string)[], quietMs: number) {
  console.log(`${kase} (stdio) …`);
  const texts: Record<string, string> = {};
  for (const name of ['model', 'qsd'] as const) {
    const proc = track(name === 'model'
      ? spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(root, `stdio${nth++}`), ...(v10 ? ['--qemu', '10.0'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(qsdBin, ['--chardev', 'stdio,id=m', '--monitor', 'm'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] }));
    let rss = 0;
    const sampler = setInterval(() => { rss = Math.max(rss, rssMb(proc.pid!) || 0); }, 100);
    const chunks: Buffer[] = [];
    let err = '';
    proc.stderr!.on('data', (d) => { err += d; if (err.length > 1e5) err = err.slice(-1e4); });
    proc.stdin!.on('error', () => undefined);
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let sent = false;
      const arm = () => { clearTimeout(timer); if (sent) timer = setTimeout(resolve, quietMs); };
      proc.stdout!.on('data', (d: Buffer) => {
        chunks.push(d);
        if (!sent) { sent = true; for (const p of parts) proc.stdin!.write(p); proc.stdin!.end(); }
        arm();
      });
      proc.once('exit', () => { clearTimeout(timer); resolve(); });
    });
    const ms = Date.now() - t0;
    clearInterval(sampler);
    const exited = proc.exitCode !== null ? `exited ${proc.exitCode}` : 'running';
    await stopProc(proc);
    texts[name] = Buffer.concat(chunks).toString('latin1');
    const notes = name === 'model' ? [...new Set(err.split('\n').filter((l) => l && !l.startsWith('blockgraph: QMP on ')).map((l) => l.replace(/\d+/g, 'N')))].slice(0, 3).join(' | ') : '';
    rows.push({ kase: `${kase} (stdio)`, server: name, bad: `${lines(texts[name]!)} lines, then ${exited} (${(ms / 1000).toFixed(1)} s)`, others: '-', rss: `${rss.toFixed(0)} MB`, after: '-', notes });
    if (name === 'model' && rss > 400) failures++;
    console.log(`  ${name}: ${rows[rows.length - 1]!.bad}; RSS max ${rss.toFixed(0)} MB${notes ? `; notes: ${notes}` : ''}`);
  }
  const a = normalise(texts.qsd!).split('\r\n'), m = normalise(texts.model!).split('\r\n');
  const same = a.length === m.length && a.every((l, i) => l === m[i]);
  if (!same) failures++;
  rows[rows.length - 2]!.same = same ? `same (${a.length - 1} lines, ${digest(texts.qsd!)})` : `DIFF (qsd ${a.length - 1} lines, model ${m.length - 1})`;
  console.log(`  compare: ${rows[rows.length - 2]!.same}`);
  if (!same) for (let i = 0, shown = 0; i < Math.max(a.length, m.length) && shown < 6; i++) if (a[i] !== m[i]) { shown++; console.log(`   ${i}: qsd   ${(a[i] ?? '<none>').slice(0, 240)}\n   ${i}: model ${(m[i] ?? '<none>').slice(0, 240)}`); }
}
if (on('stdio')) {
  await runStdio('halfclose', [NEG, '{"execute":"query-version","id":1}{"execute":"query-jobs","id":2}'], 1500);
  await runStdio('garbage', [NEG, 'x'.repeat(1 << 20), AFTER], 15_000);
  await runStdio('nested', [NEG, '['.repeat(100_000), AFTER], 3000);
  await runStdio('utf8', [NEG, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), Buffer.alloc(1 << 20, 0xff), AFTER], 5000);
}

console.log('\n| case | server | bad client | other clients meanwhile | RSS before → max | after | bad client\'s bytes vs QSD |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.kase} | ${r.server} | ${r.bad} | ${r.others} | ${r.rss} | ${r.after} | ${r.same ?? ''} |`);
const notes = rows.filter((r) => r.notes).map((r) => `${r.kase}: ${r.notes}`);
if (notes.length) console.log(`\nmodel's reported reasons:\n${notes.map((n) => `  ${n}`).join('\n')}`);
rmSync(root, { recursive: true, force: true });
console.log(failures ? `\n${failures} failure(s)` : '\nno failures');
process.exitCode = failures ? 1 : 0;
