// Attacks nobody chose (docs/hostile.md, round 3), in this process through cli/main.ts's main
// (no tsx start-up per run) except where a path may block (fifos, sockets: a child with a timeout):
//   flips     a closed store's files that lie: one bit flipped at sampled offsets of every .ldb
//             and .log, each on a fresh copy; `verify --json` must report the damage (its first
//             bad seq where records are involved) or the store must answer exactly as before;
//             `show --json` must never answer a different graph while verify says ok, nothing may
//             crash or print a stack, and the copy must not be written by either.
//   fixtures  every command that loads a transcript, scenario or fixture (qmp run, qmp compare,
//             import, fixture import, conformance-style) given truncated, wrong-version, huge,
//             duplicate-key, deeply nested, non-UTF-8, empty files, a directory, a fifo, a socket
//   argv      random argv from the `--help` grammar: numbers out of range, negative and huge
//             seqs, seq past head, empty strings, paths that are files, dirs, fifos, sockets
// Each run: exit code, whether stderr holds a stack, elapsed ms; a run breaks the rules if it
// crashes (exit other than 0-4, 74), prints a stack, hangs (20 s), or answers wrong silently.
//   node --import tsx scripts/hostile-inputs.ts [flips] [fixtures] [argv] [--samples N] [--seed S]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { main } from '../cli/main.js';
import { ServedStore } from '../cli/live-store.js';
import { FIXED_CLOCK } from '../engine/engine.js';

const TSX = createRequire(import.meta.url).resolve('tsx');
const argv = process.argv.slice(2);
const opt = (k: string, d: number) => { const i = argv.indexOf(k); return i >= 0 ? Number(argv[i + 1]) : d; };
const parts = argv.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const want = (p: string) => parts.length === 0 || parts.includes(p);
const SAMPLES = opt('--samples', 40);
let seed = opt('--seed', 1) >>> 0;
const rand = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

const STACK = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at [^\s]+:\d+:\d+/;
const OK_EXIT = new Set([0, 1, 2, 3, 4, 74]);

interface Ran { status: number; stdout: string; stderr: string; ms: number; threw?: string }

async function inProcess(args: string[]): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const ce = console.error;
  process.stdout.write = ((c: string | Uint8Array) => { out.push(String(c)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err.push(String(c)); return true; }) as typeof process.stderr.write;
  console.error = (...xs: unknown[]) => { err.push(xs.join(' ') + '\n'); };
  const t0 = Date.now();
  let status = -1;
  let threw: string | undefined;
  try {
    status = await main(args);
  } catch (e) {
    threw = String((e as Error)?.stack ?? e);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    console.error = ce;
    process.exitCode = 0;
  }
  return { status, stdout: out.join(''), stderr: err.join(''), ms: Date.now() - t0, threw };
}

function child(args: string[], timeout = 20_000): Ran {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', TSX, 'cli/main.ts', ...args], { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[${r.error.message}]` : ''), ms: Date.now() - t0 };
}

/** name -> sha256 of every file under dir. */
function hashes(dir: string): string {
  const h = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    h.update(name);
    if (st.isFile()) h.update(readFileSync(p));
  }
  return h.digest('hex');
}

/** JSON with sorted keys: a graph restored from a snapshot and one folded from scratch hold the same entities in another key order. */
function canonical(text: string): string {
  const sort = (v: unknown): unknown => Array.isArray(v) ? v.map(sort) : v && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  try { return JSON.stringify(sort(JSON.parse(text))); } catch { return `not JSON: ${text.slice(0, 100)}`; }
}

const findings: { part: string; what: string; why: string }[] = [];
const counts: Record<string, Record<string, number>> = {};
function count(part: string, outcome: string) { ((counts[part] ??= {})[outcome] ??= 0); counts[part]![outcome]!++; }
function broke(part: string, what: string, why: string) { findings.push({ part, what, why }); count(part, 'broke a rule'); }

/** The generic rules every run keeps. */
function rules(part: string, what: string, r: Ran): boolean {
  if (r.threw) { broke(part, what, `threw out of main: ${r.threw.split('\n')[0]}`); return false; }
  if (!OK_EXIT.has(r.status)) { broke(part, what, `exit ${r.status}: ${r.stderr.slice(0, 300)}`); return false; }
  if (STACK.test(r.stderr)) { broke(part, what, `stack trace: ${r.stderr.slice(0, 300)}`); return false; }
  return true;
}

const work = mkdtempSync(join(tmpdir(), 'bg-hostile-inputs-'));

// ---------------------------------------------------------------------------------------------
async function flips(): Promise<void> {
  const good = join(work, 'good');
  const store = await ServedStore.open(good, { clock: FIXED_CLOCK, snapshotEvery: 25 });
  for (let i = 0; i < 30; i++) {
    await store.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}`, size: 1048576 });
    if (i % 3 === 2) await store.execute('A', 'blockdev-del', { 'node-name': `n${i - 1}` });
  }
  await store.close();
  // a second session: part of the log in tables, part in the WAL
  const again = await ServedStore.open(good, { clock: FIXED_CLOCK, snapshotEvery: 25 });
  for (let i = 30; i < 45; i++) await again.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}`, size: 1048576 });
  await again.close();
  const baseShow = await inProcess(['show', '--json', '--db', good]);
  const baseGraph = canonical(baseShow.stdout);
  const baseVerify = await inProcess(['verify', '--json', '--db', good]);
  if (baseShow.status !== 0 || baseVerify.status !== 0) throw new Error(`the good store is not good: ${baseVerify.stdout} ${baseShow.stderr}`);
  const files = readdirSync(good).filter((f) => /\.(ldb|log)$/.test(f)).map((f) => ({ f, size: statSync(join(good, f)).size })).filter((x) => x.size > 0);
  for (let i = 0; i < SAMPLES; i++) {
    const { f, size } = pick(files);
    const at = Math.floor(rand() * size);
    const bit = Math.floor(rand() * 8);
    const what = `${f} byte ${at}/${size} bit ${bit}`;
    const copy = join(work, `flip${i}`);
    cpSync(good, copy, { recursive: true });
    const p = join(copy, f);
    const b = readFileSync(p);
    b[at]! ^= 1 << bit;
    writeFileSync(p, b);
    const before = hashes(copy);
    const v = await inProcess(['verify', '--json', '--db', copy]);
    const s = await inProcess(['show', '--json', '--db', copy]);
    const after = hashes(copy);
    let ok = rules('flips', `verify ${what}`, v) && rules('flips', `show ${what}`, s);
    if (ok && before !== after) { broke('flips', what, 'a read wrote to the store'); ok = false; }
    if (ok) {
      let rep: { ok?: boolean; firstBad?: number; snapshots?: { damaged?: unknown[] } } = {};
      try { rep = JSON.parse(v.stdout); } catch { /* not JSON */ }
      if (v.status === 0 && s.status === 0 && canonical(s.stdout) !== baseGraph) { broke('flips', what, 'verify says ok and show answers a different graph'); ok = false; }
      else if (v.status === 0 && s.status !== 0) { broke('flips', what, `verify ok but show exits ${s.status}: ${s.stderr.slice(0, 200)}`); ok = false; }
      else if (v.status !== 0 && s.status === 0 && canonical(s.stdout) !== baseGraph) { count('flips', 'verify reports it, show answers another graph'); findings.push({ part: 'flips', what, why: `note: verify exit ${v.status}, show answered a different graph (exit 0): ${s.stderr.slice(0, 200)}` }); }
      else if (v.status === 0) count('flips', 'harmless (verify ok, same graph)');
      else {
        const named = typeof rep.firstBad === 'number' ? 'first bad seq named' : rep.snapshots?.damaged?.length ? 'a damaged snapshot named' : 'LevelDB damage named';
        if (s.status === 0) count('flips', `reported by verify (exit ${v.status}, ${named}), show answers the same graph`);
        else count('flips', `reported by verify (exit ${v.status}, ${named}), show refuses (exit ${s.status})`);
      }
    }
    rmSync(copy, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
async function fixtures(): Promise<void> {
  const dir = join(work, 'fx');
  mkdirSync(dir);
  const transcript = readFileSync('oracle/transcripts/' + readdirSync('oracle/transcripts').filter((f) => f.endsWith('.json')).sort()[0]!, 'utf8');
  // a real fixture, exported from a small store
  const src = join(work, 'fxsrc');
  const s = await ServedStore.open(src, { clock: FIXED_CLOCK });
  for (let i = 0; i < 5; i++) await s.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `f${i}` });
  await s.close();
  const fxOut = await inProcess(['fixture', 'export', '--db', src]);
  const fixture = fxOut.stdout;
  const variants: [string, string | Buffer][] = [
    ['empty', ''],
    ['whitespace', ' \n\t\n'],
    ['truncated transcript (half)', transcript.slice(0, transcript.length >> 1)],
    ['truncated transcript (one byte)', transcript.slice(0, -2)],
    ['truncated fixture (half)', fixture.slice(0, fixture.length >> 1)],
    ['fixture, last line cut', fixture.slice(0, fixture.lastIndexOf('\n', fixture.length - 2) + 20)],
    ['wrong format version', transcript.replace(/blockgraph-oracle\/1/, 'blockgraph-oracle/99')],
    ['fixture wrong version', fixture.replace(/"format":\s*"[^"]*"/, '"format":"blockgraph-fixture/99"').replace(/"version":\s*\d+/, '"version":99')],
    ['duplicate keys', transcript.replace(/^\{/, '{"format":"x",')],
    ['deep nesting 100k', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['deep nesting in a fixture line', fixture.split('\n')[0] + '\n' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '\n'],
    ['non-UTF-8', Buffer.concat([Buffer.from(transcript.slice(0, 200)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(transcript.slice(200))])],
    ['UTF-16 BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(transcript, 'utf16le')])],
    ['a JSON number', '42'],
    ['null', 'null'],
    ['an array', '[]'],
    ['huge (64 MB string)', `{"format":"blockgraph-oracle/1","x":"${'a'.repeat(64 << 20)}"}`],
    ['huge steps (200k)', JSON.stringify({ ...JSON.parse(transcript), steps: Array.from({ length: 200_000 }, () => ({ execute: 'query-version' })) })],
    ['NUL bytes', '\u0000'.repeat(1000)],
  ];
  const paths: [string, string][] = [];
  for (const [name, body] of variants) {
    const p = join(dir, name.replace(/[^a-z0-9]+/gi, '-') + '.json');
    writeFileSync(p, body);
    paths.push([name, p]);
  }
  const cmds = (p: string): string[][] => [
    ['qmp', 'run', p],
    ['qmp', 'compare', p, p],
    ['import', p, '--db', join(work, `imp-${Math.floor(rand() * 1e9)}`)],
    ['fixture', 'import', p, '--db', join(work, `fimp-${Math.floor(rand() * 1e9)}`)],
  ];
  for (const [name, p] of paths) {
    for (const args of cmds(p)) {
      const r = await inProcess(args);
      const what = `${args.slice(0, 2).join(' ')} <${name}>`;
      if (rules('fixtures', what, r)) count('fixtures', r.status === 0 ? 'accepted (exit 0)' : `refused (exit ${r.status})`);
      if (r.ms > 20_000) broke('fixtures', what, `took ${r.ms} ms`);
    }
  }
  // paths that are not files: a directory, a fifo, a socket (children: a fifo may block a read)
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const sock = join(dir, 'sock');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(sock, r));
  for (const [name, p] of [['a directory', dir], ['a fifo', fifo], ['a socket', sock], ['missing', join(dir, 'nope')]] as const) {
    for (const args of cmds(p)) {
      const r = child(args);
      const what = `${args.slice(0, 2).join(' ')} <${name}>`;
      if (r.status === -1) broke('fixtures', what, `hung (killed after ${r.ms} ms)`);
      else if (rules('fixtures', what, r)) count('fixtures', r.status === 0 ? 'accepted (exit 0)' : `refused (exit ${r.status})`);
    }
  }
  srv.close();
}

// ---------------------------------------------------------------------------------------------
async function argvAttack(): Promise<void> {
  const db = join(work, 'argv-db');
  const s = await ServedStore.open(db, { clock: FIXED_CLOCK });
  for (let i = 0; i < 8; i++) await s.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `a${i}` });
  await s.close();
  const file = join(work, 'plain-file');
  writeFileSync(file, 'x');
  const fifo = join(work, 'argv-fifo');
  spawnSync('mkfifo', [fifo]);
  const before = hashes(db);
  const numbers = ['0', '-1', '-0', '1', '8', '9', '99999999999', '9007199254740993', '1e3', '0x10', '', ' ', 'NaN', '1.5', '+4', '２'];
  const paths = [db, file, work, join(work, 'missing'), ''];
  const commands: [string, string[]][] = [
    ['log', ['--from', 'N', '--to', 'N']],
    ['show', ['--at', 'N', '--node', 'S']],
    ['show', ['--chain', 'S', '--proc', 'S']],
    ['replay', ['--verify']],
    ['diff', ['N', 'N']],
    ['history', ['S']],
    ['render', ['--at', 'N', '--format', 'S', '--out', 'P']],
    ['audit', ['--node', 'S', '--since', 'S', '--type', 'S']],
    ['tail', ['--from', 'N', '--limit', 'N', '--no-follow']],
    ['fixture export', ['--from', 'N', '--to', 'N', '--out', 'P']],
    ['verify', []],
  ];
  for (let i = 0; i < SAMPLES * 3; i++) {
    const [cmd, grammar] = pick(commands);
    const args = [...cmd.split(' ')];
    for (let k = 0; k < grammar.length; k++) {
      const g = grammar[k]!;
      if (g === 'N') args.push(pick(numbers));
      else if (g === 'S') args.push(pick(['a0', '', 'nope', '-', '--', '\u0000', 'x'.repeat(5000), 'A', 'svg', '2026-13-45']));
      else if (g === 'P') args.push(pick([file, work, join(work, 'missing', 'x'), '', fifo, join(work, `out-${i}`)]));
      else if (rand() < 0.85) args.push(g); else k++; // sometimes a flag without its value
    }
    args.push('--db', rand() < 0.8 ? db : pick(paths));
    if (rand() < 0.5) args.push('--json');
    if (args[0] === 'tail' && !args.includes('--no-follow')) args.push('--no-follow');
    if (args.includes(fifo)) continue; // a fifo output blocks a write: children only (below)
    const r = await inProcess(args);
    const what = JSON.stringify(args);
    if (rules('argv', what, r)) count('argv', `exit ${r.status}`);
  }
  if (hashes(db) !== before) broke('argv', 'reads', 'the store changed');
}

try {
  if (want('flips')) await flips();
  if (want('fixtures')) await fixtures();
  if (want('argv')) await argvAttack();
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify({ counts, findings }, null, 1));
process.exit(0);
