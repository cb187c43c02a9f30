// The hostile-store matrix: every read command of the CLI (and --json, --help) run against a store
// directory that is missing, empty, corrupt, locked by a live server, foreign (files that are no
// store, a LevelDB that is not ours), a plain file, or unreadable. Each run must: exit with a
// documented code (README: 0 ok, 1 no, 2 usage/bad input, 3 damaged, 4 locked, 70 internal: never
// 70 here), print no stack trace, print valid JSON on stdout when --json succeeds, and leave the
// store directory exactly as it was (the names, sizes, modes and mtimes of every file under it).
//
//   node --import tsx scripts/hostile-cli.ts [--only SUBSTRING] [--json]
//
// Figures: docs/hostile.md. Exit 1 if any run broke a rule.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, cpSync, readFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createRequire } from 'node:module';
// tsx resolved from here, so the CLI also runs from a cwd with no node_modules (the --help runs)
const TSX = createRequire(import.meta.url).resolve('tsx');
const CLI = [process.execPath, '--import', TSX, join(process.cwd(), 'cli/main.ts')];
const root = mkdtempSync(join(tmpdir(), 'bg-hostile-cli-'));
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const asJson = process.argv.includes('--json');

function run(args: string[], input?: string, timeout = 60_000) {
  const r = spawnSync(CLI[0]!, [...CLI.slice(1), ...args], { encoding: 'utf8', input, timeout, cwd: process.cwd() });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Every path under dir with its kind, size, mode and mtime (ns): what a read must not change. */
function snapshot(dir: string): string {
  if (!existsSync(dir)) return '(absent)';
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p, { bigint: true });
    out.push(`${rel} ${st.isDirectory() ? 'd' : st.isFile() ? 'f' : 'o'} ${st.size} ${st.mode.toString(8)} ${st.mtimeNs}`);
    if (st.isDirectory()) {
      let names: string[] = [];
      try { names = readdirSync(p).sort(); } catch { out.push(`${rel}/(unreadable)`); }
      for (const n of names) walk(join(p, n), `${rel}/${n}`);
    }
  };
  walk(dir, '.');
  return out.join('\n');
}

// A real store: a few commands through the stdio server.
const base = join(root, 'base');
const QMP_IN = [
  '{"execute":"qmp_capabilities"}',
  '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
  '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
  '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n1"}}',
  'garbage',
  '{"execute":"blockdev-del","arguments":{"node-name":"n1"}}',
].join('\n') + '\n';
const made = run(['qmp', '--db', base], QMP_IN);
if (made.status !== 0) { console.error('could not build the base store', made); process.exit(2); }
run(['image', 'create', '--db', base, join(root, 'img.raw'), '1M']);

/** The store states: each returns the --db path (and a cleanup). */
type State = { name: string; make: () => Promise<{ db: string; cleanup?: () => Promise<void> }>; expect: number[] };
const fresh = (name: string) => { const d = join(root, name); rmSync(d, { recursive: true, force: true }); return d; };
const copyBase = (name: string) => { const d = fresh(name); cpSync(base, d, { recursive: true }); return d; };

const states: State[] = [
  { name: 'good', make: async () => ({ db: copyBase('good') }), expect: [0, 1] },
  { name: 'missing', make: async () => ({ db: join(fresh('missing'), 'db') }), expect: [2, 3] },
  { name: 'empty-dir', make: async () => { const d = fresh('empty'); mkdirSync(d); return { db: d }; }, expect: [2, 3] },
  { name: 'plain-file', make: async () => { const d = fresh('file'); writeFileSync(d, 'not a store\n'); return { db: d }; }, expect: [2, 3] },
  { name: 'foreign-files', make: async () => { const d = fresh('foreign'); mkdirSync(d); writeFileSync(join(d, 'README'), 'hello'); mkdirSync(join(d, 'sub')); writeFileSync(join(d, 'sub', 'x.json'), '{}'); return { db: d }; }, expect: [2, 3] },
  {
    name: 'foreign-leveldb', expect: [2, 3],
    make: async () => {
      const d = fresh('foreign-level');
      const { ClassicLevel } = await import('classic-level');
      const db = new ClassicLevel(d);
      await db.put('hello', 'world');
      await db.put('\x00meta', 'x');
      await db.close();
      return { db: d };
    },
  },
  {
    name: 'corrupt-current', expect: [3],
    make: async () => { const d = copyBase('corrupt-current'); writeFileSync(join(d, 'CURRENT'), 'MANIFEST-999999\n'); return { db: d }; },
  },
  {
    name: 'corrupt-tables', expect: [3],
    make: async () => {
      const d = copyBase('corrupt-tables');
      // scribble over the middle of every data file (the write-ahead .log and any .ldb)
      for (const n of readdirSync(d).filter((n) => /\.(log|ldb)$/.test(n))) {
        const p = join(d, n); const size = statSync(p).size; if (size < 64) continue;
        const fd = openSync(p, 'r+'); writeSync(fd, Buffer.alloc(Math.min(256, size >> 1), 0xa5), 0, Math.min(256, size >> 1), size >> 2); closeSync(fd);
      }
      return { db: d };
    },
  },
  {
    name: 'truncated-log', expect: [0, 1, 3],
    make: async () => {
      const d = copyBase('truncated-log');
      for (const n of readdirSync(d).filter((n) => /\.log$/.test(n) && n !== 'LOG')) {
        const p = join(d, n); const buf = readFileSync(p); writeFileSync(p, buf.subarray(0, Math.floor(buf.length * 0.6)));
      }
      return { db: d };
    },
  },
  // round 4: files zeroed or cut to nothing, as a disk that lies or a crash mid-copy leaves them
  {
    name: 'zeroed-manifest', expect: [3],
    make: async () => { const d = copyBase('zeroed-manifest'); for (const n of readdirSync(d).filter((n) => n.startsWith('MANIFEST-'))) writeFileSync(join(d, n), Buffer.alloc(statSync(join(d, n)).size)); return { db: d }; },
  },
  {
    name: 'empty-current', expect: [3],
    make: async () => { const d = copyBase('empty-current'); writeFileSync(join(d, 'CURRENT'), ''); return { db: d }; },
  },
  {
    name: 'zeroed-data', expect: [0, 1, 3],
    make: async () => { const d = copyBase('zeroed-data'); for (const n of readdirSync(d).filter((n) => /\.(log|ldb)$/.test(n) && n !== 'LOG')) writeFileSync(join(d, n), Buffer.alloc(statSync(join(d, n)).size)); return { db: d }; },
  },
  {
    name: 'all-files-empty', expect: [2, 3],
    make: async () => { const d = copyBase('all-empty'); for (const n of readdirSync(d)) writeFileSync(join(d, n), ''); return { db: d }; },
  },
  {
    name: 'lock-file-only', expect: [2, 3],
    make: async () => { const d = fresh('lock-only'); mkdirSync(d); writeFileSync(join(d, 'LOCK'), ''); return { db: d }; },
  },
  {
    name: 'unreadable', expect: [0, 2, 3, 4] /* root reads it anyway */,
    make: async () => { const d = copyBase('unreadable'); chmodSync(d, 0o000); return { db: d }; },
  },
  {
    name: 'locked-by-server', expect: [0, 1],
    make: async () => {
      const d = copyBase('locked');
      const sock = join(root, 'locked.sock');
      const p = spawn(CLI[0]!, [...CLI.slice(1), 'qmp', '--db', d, '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
      for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      // the server's own start-up writes (its process record, LevelDB's compaction) are not the read's
      for (let prev = '', i = 0; i < 40; i++) { const now = snapshot(d); if (now === prev) break; prev = now; await new Promise((r) => setTimeout(r, 250)); }
      return { db: d, cleanup: async () => { p.kill('SIGTERM'); await new Promise((r) => p.once('exit', r)); } };
    },
  },
];

const img = join(root, 'img.raw');
mkdirSync(join(root, 'out'), { recursive: true });
/** Read commands, with the flags that print JSON; `--db DB` is added. */
const commands: string[][] = [
  ['log'], ['log', '--json'], ['log', '--from', '2', '--to', '3'],
  ['show'], ['show', '--json'], ['show', '--node', 'n0'], ['show', '--chain', 'n0', '--json'], ['show', '--at', '2'],
  ['replay'], ['replay', '--json'], ['replay', '--verify'], ['replay', '--verify', '--json'],
  ['verify'], ['verify', '--json'],
  ['repair', '--dry-run'], ['repair', '--dry-run', '--json'],
  ['audit'], ['audit', '--json'], ['audit', '--node', 'n0', '--json'],
  ['tail', '--no-follow'], ['tail', '--no-follow', '--json', '--limit', '3'],
  ['diff', '1', '3'], ['diff', '1', '3', '--json'],
  ['history', 'n0'], ['history', 'n0', '--json'],
  ['render'], ['render', '--json'], ['render', '--format', 'svg', '--out', '@OUT/r.svg'],
  ['report', '--out', '@OUT/report'], ['report', '--out', '@OUT/report-j', '--json'],
  ['fixture', 'export'], ['fixture', 'export', '--out', '@OUT/fx.jsonl'],
  ['image', 'info', img], ['image', 'info', img, '--json'],
  ['plan', 'reopen', '[{"driver":"null-co","node-name":"n0","read-only":true}]'], ['plan', 'reopen', '[{"driver":"null-co","node-name":"n0"}]', '--json'],
];

interface Result { state: string; cmd: string; status: number | null; ok: boolean; why: string[]; stderr: string }
const results: Result[] = [];
let n = 0;
for (const st of states) {
  for (const c of commands) {
    const cmd = c.map((a) => a.replace('@OUT', join(root, 'out', `${st.name}-${n}`))).join(' ');
    if (only && !`${st.name} ${cmd}`.includes(only)) continue;
    n++;
    const { db, cleanup } = await st.make();
    const before = st.name === 'unreadable' ? (chmodSync(db, 0o755), snapshot(db)) : snapshot(db);
    if (st.name === 'unreadable') chmodSync(db, 0o000);
    const args = [...c.map((a) => a.replace('@OUT', join(root, 'out', `${st.name}-${n}`))), '--db', db];
    if (c[0] === 'report' || c.some((a) => a.startsWith('@OUT'))) mkdirSync(join(root, 'out', `${st.name}-${n}`), { recursive: true });
    const r = run(args);
    if (st.name === 'unreadable') chmodSync(db, 0o755);
    const after = snapshot(db); // before cleanup: a locking server's own shutdown writes are not the read's
    await cleanup?.();
    const why: string[] = [];
    if (r.signal) why.push(`killed by ${r.signal}`);
    if (r.status === 70 || r.status === null) why.push(`exit ${r.status}`);
    // verify reports damage with exit 3; repair --dry-run reports what it would do with exit 0
    const allowed = c[0] === 'verify' ? [...st.expect, 3] : c[0] === 'repair' ? [...st.expect, 0, 3, 4] : st.expect; // repair refuses a held store (4)
    if (r.status !== null && !allowed.includes(r.status) && r.status !== 1) why.push(`exit ${r.status}, expected one of ${allowed.join('/')}`);
    if (/\n\s+at .+\(.*:\d+:\d+\)/.test(r.stderr) || /\n\s+at .+:\d+:\d+/.test(r.stderr)) why.push('stack trace on stderr');
    if (before !== after) why.push(`store changed:\n--- before\n${before}\n--- after\n${after}`);
    if (r.status === 0 && c.includes('--json')) {
      try { if (c[0] === 'tail') r.stdout.trim().split('\n').filter(Boolean).forEach((l) => JSON.parse(l)); else JSON.parse(r.stdout); } catch { why.push('--json stdout is not JSON'); }
    }
    if (r.status !== 0 && !r.stderr.trim() && !(c[0] === 'verify' && r.status === 3 && r.stdout.trim())) why.push('failed silently (empty stderr)');
    const res = { state: st.name, cmd, status: r.status, ok: why.length === 0, why, stderr: r.stderr.trim().split('\n').slice(0, 3).join(' | ') };
    results.push(res);
    if (!asJson) console.log(`${res.ok ? 'ok  ' : 'FAIL'} ${st.name.padEnd(16)} exit ${String(r.status).padEnd(3)} ${cmd}${res.ok ? '' : `\n       ${why.join('\n       ')}\n       stderr: ${res.stderr}`}`);
  }
}

// --help on every command and subcommand: exit 0, no store touched (run in an empty cwd).
const helpDir = join(root, 'help-cwd'); mkdirSync(helpDir);
const helpCmds = [[], ['log'], ['show'], ['replay'], ['qmp'], ['qmp', 'run'], ['qmp', 'record'], ['qmp', 'proxy'], ['qmp', 'compare'], ['image'], ['image', 'create'], ['image', 'info'], ['verify'], ['repair'], ['conformance'], ['plan'], ['plan', 'reopen'], ['fixture'], ['fixture', 'export'], ['fixture', 'import'], ['import'], ['audit'], ['tail'], ['diff'], ['history'], ['render'], ['report'], ['drill'], ['ship'], ['fuzz'], ['demo']];
if (!only || only === 'help') for (const h of helpCmds) {
  const r = spawnSync(CLI[0]!, [...CLI.slice(1), ...h, '--help'], { encoding: 'utf8', cwd: helpDir, timeout: 30_000 });
  const why: string[] = [];
  if (r.status !== 0) why.push(`exit ${r.status}`);
  if (!/Usage:/.test(r.stdout)) why.push('no usage');
  if (readdirSync(helpDir).length) why.push(`wrote ${readdirSync(helpDir).join(',')}`);
  results.push({ state: 'help', cmd: [...h, '--help'].join(' '), status: r.status, ok: !why.length, why, stderr: (r.stderr ?? '').trim() });
  if (!asJson) console.log(`${why.length ? 'FAIL' : 'ok  '} help             exit ${r.status} ${[...h, '--help'].join(' ')}${why.length ? ' ' + why.join('; ') : ''}`);
}

const bad = results.filter((r) => !r.ok);
if (asJson) console.log(JSON.stringify({ runs: results.length, failed: bad.length, results }, null, 2));
else console.log(`\n${results.length} runs, ${bad.length} broke a rule`);
rmSync(root, { recursive: true, force: true });
process.exitCode = bad.length ? 1 : 0;
