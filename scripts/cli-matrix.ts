// The generated CLI matrix (docs/hostile.md, round 7). The cells come from the CLI's own command
// table (buildProgram with every module loaded): every subcommand, every flag it declares and
// every positional it takes, so a new flag or command is covered without editing this file.
//
//   flags       each value flag: missing, empty, given twice, 1 MB, -1, non-numeric, 0, a NUL inside,
//               invalid UTF-8, a number past any head; each boolean flag twice and with `=x`;
//               an unknown flag (`--no-such-flag`, `--no-such-flag=1`) per command
//   positionals each: left out, one extra, and the same hostile values
//   paths       each flag or positional that names a file, dir or socket: a missing parent, an
//               empty dir, a regular file, a symlink loop, a fifo, /dev/null
//   stores      each --db: missing, empty dir, regular file, symlink loop, fifo, /dev/null, a dir
//               that is no LevelDB, another program's LevelDB, a store held by a running `qmp --db`,
//               a damaged record, a damaged WAL, a damaged MANIFEST, a read-only copy (a tmpfs
//               remounted ro, when the container lets us mount; else left out and said)
//
// Every cell runs the CLI's main() in a child (scripts/cli-cell.ts: argv from a file, so a NUL and
// 1 MB reach main() although execve cannot carry them) in its own empty cwd. Checks: no stack trace
// or V8 crash, an exit code from the documented table (0 1 2 3 4 74; 70 is the table's "internal"
// and counts as a failure), a stable [BG_*] code on stderr when it exits 2/3/4/74, JSON on stdout
// when --json succeeds, no hang (a serving command is stopped with SIGTERM and must exit cleanly);
// for a read command the store's files byte-identical before and after (names, kinds, sizes,
// modes, mtimes in ns, sha1) and nothing created in its cwd but what --out names.
//
//   node --import tsx scripts/cli-matrix.ts [--only SUBSTR] [--sample N] [--seed S] [--jobs J]
//        [--cheap] [--json FILE] [--keep]
//
// Exit 1 if any cell broke a rule. Figures: docs/hostile.md (Round 7).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command, Option } from 'commander';

const REPO = resolve(new URL('..', import.meta.url).pathname);
const TSX = createRequire(import.meta.url).resolve('tsx');
const CELL_RUNNER = join(REPO, 'scripts/cli-cell.ts');

/** An argv item: text, or bytes (hex) decoded as Node decodes argv. Placeholders: @DB @CELL @F. */
export type Arg = string | { utf8: string };

export interface Cell {
  n: number;
  /** 'show', 'qmp run', … */
  cmd: string;
  kind: 'base' | 'flag' | 'unknown' | 'positional' | 'path' | 'store';
  /** what is attacked and how: `--at=negative`, `<file>=fifo`, `--db=held` */
  what: string;
  args: Arg[];
  /** the --db state (stores), or 'good' */
  store: StoreState;
  /** stdin for the child (the stdio QMP server reads it, then EOF ends it) */
  input?: string;
}

export type StoreState = 'good' | 'missing' | 'empty-dir' | 'regular-file' | 'symlink-loop' | 'fifo' | 'dev-null' | 'non-leveldb' | 'foreign-leveldb' | 'held' | 'damaged-record' | 'damaged-wal' | 'damaged-manifest' | 'read-only';
export const STORE_STATES: StoreState[] = ['good', 'missing', 'empty-dir', 'regular-file', 'symlink-loop', 'fifo', 'dev-null', 'non-leveldb', 'foreign-leveldb', 'held', 'damaged-record', 'damaged-wal', 'damaged-manifest', 'read-only'];
const PATH_STATES = ['missing-parent', 'empty-dir', 'regular-file', 'symlink-loop', 'fifo', 'dev-null'] as const;

const HUGE = 'x'.repeat(1 << 20);
/** The hostile values of a value (flag or positional). */
const VALUES: Array<[string, Arg]> = [
  ['empty', ''], ['huge-1MB', HUGE], ['negative', '-1'], ['non-numeric', 'abc'], ['zero', '0'],
  ['nul', 'a\u0000b'], ['invalid-utf8', { utf8: 'fffe61' }], ['past-head', '999999999'],
];

const QMP_INPUT = '{"execute":"qmp_capabilities"}\n{"execute":"query-version"}\n';

/** A working invocation of each command (positionals and what it needs); the cells vary one thing. */
const BASE: Record<string, Arg[]> = {
  demo: ['--db', '@CELL/demo.db'],
  log: ['--db', '@DB'], show: ['--db', '@DB'], replay: ['--db', '@DB'],
  qmp: ['--db', '@DB'],
  'qmp run': ['@F/t.json'],
  'qmp record': ['@F/scenario.json', '--out', '@CELL/rec.json'],
  'qmp proxy': ['--listen', '@CELL/p.sock', '--connect', '@CELL/nobody.sock', '--db', '@DB'],
  'qmp compare': ['@F/t.json', '@F/t.json'],
  'qmp machine-facts': ['--out', '@CELL/facts.json'],
  'image create': ['@CELL/new.raw', '1M', '--db', '@DB'],
  'image info': ['@F/img.raw', '--db', '@DB'],
  verify: ['--db', '@DB'], repair: ['--db', '@DB'],
  conformance: ['@F/conf'],
  'plan reopen': ['[{"driver":"null-co","node-name":"n0","read-only":true}]', '--db', '@DB'],
  'fixture export': ['--db', '@DB'],
  'fixture import': ['@F/fx.jsonl', '--db', '@DB'],
  import: ['@F/t.json', '--db', '@DB'],
  audit: ['--db', '@DB'],
  tail: ['--db', '@DB', '--no-follow'],
  diff: ['1', '3', '--db', '@DB'],
  history: ['n0', '--db', '@DB'],
  render: ['--db', '@DB'],
  report: ['--out', '@CELL/report', '--db', '@DB'],
  drill: ['@F/scenario.json', '--every', '50', '--jobs', '1'],
  'drill upgrade': ['--to', '10.0', '--db', '@DB'],
  ship: ['--db', '@DB', '--to', 'nats://127.0.0.1:9/f/h'],
  fuzz: ['--against', 'qsd', '--commands', '3', '--case-length', '3', '--parallel', '1', '--no-shrink', '--quiet'],
};
/** A good value of each flag (the second of a duplicate, or the value put back after an attack). */
const GOOD: Record<string, string> = {
  '--db': '@DB', '--from': '1', '--to': '3', '--at': '2', '--node': 'n0', '--chain': 'n0', '--proc': 'A',
  '--out': '@CELL/out', '--format': 'dot', '--qemu': '7.2', '--timeout': '5', '--reconnect': '1',
  '--socket': '@CELL/q.sock', '--connect': '@CELL/c.sock', '--log-socket': '@CELL/l.sock', '--feed-stall-ms': '1000',
  '--store': 'nats://127.0.0.1:9/f/h', '--target': 'qsd', '--listen': '@CELL/p.sock', '--image-dir': '@CELL',
  '--backing': '@F/img.raw', '--backing-format': 'raw', '--type': 'transaction', '--txn': 't1',
  '--since': '2020-01-01', '--until': '2999-01-01', '--limit': '2', '--last': '2', '--graphs': '2', '--page-size': '2',
  '--random': '1', '--seed': '1', '--length': '5', '--jobs': '1', '--every': '50', '--batch': '10', '--against': 'qsd',
  '--commands': '3', '--case-length': '3', '--shrink-budget': '1', '--parallel': '1', '--progress-every': '1',
  '--machine': 'q35', '--description': 'x', '--fleet': 'nats://127.0.0.1:9/f', '--host': 'h',
};
const GOOD_BY_CMD: Record<string, Record<string, string>> = {
  'image create': { '--format': 'raw' }, import: { '--format': 'oracle' }, ship: { '--to': 'nats://127.0.0.1:9/f/h' },
  'drill upgrade': { '--to': '10.0' }, report: { '--out': '@CELL/report' }, fuzz: { '--out': '@CELL/fuzz-out' },
};
/** Flags and positionals that name a path (they also get the path states). */
const PATH_FLAGS = new Set(['--db', '--out', '--socket', '--connect', '--log-socket', '--listen', '--image-dir', '--backing']);
const PATH_ARGS = new Set(['file', 'scenario', 'expected', 'actual', 'dir']);
/** Commands that only read (the store must not change, nothing may be created). */
function isRead(cmd: string, args: Arg[]): boolean {
  if (cmd === 'repair') return args.includes('--dry-run');
  if (cmd === 'qmp run') return !args.includes('--db');
  return ['log', 'show', 'replay', 'verify', 'audit', 'tail', 'diff', 'history', 'render', 'report', 'fixture export', 'image info', 'plan reopen', 'qmp compare', 'conformance', 'drill upgrade'].includes(cmd);
}
/** Commands that serve until stopped: a cell ended by SIGTERM after its time is not a hang. */
export const SERVES = new Set(['qmp', 'qmp proxy', 'tail', 'ship']);
/** Commands whose work grows with a value (fuzz --commands N, drill --random N): stopped by SIGTERM at the cell's time, they must stop cleanly. */
const RUNS_LONG = new Set(['fuzz', 'drill']);
/** Commands that start QEMU or run many children: longer time, left out of --cheap. */
export const COSTLY = new Set(['qmp record', 'qmp machine-facts', 'fuzz', 'drill', 'conformance', 'demo']);

interface Decl { cmd: string; options: Option[]; positionals: Array<{ name: string; required: boolean; variadic: boolean }> }

/** Every command and what it declares, from the CLI's own table. */
export async function commandTable(): Promise<Decl[]> {
  const { buildProgram } = await import('../cli/main.js');
  const program = await buildProgram([], { all: true });
  const out: Decl[] = [];
  const walk = (c: Command, path: string[]) => {
    for (const s of c.commands) {
      const name = [...path, s.name()].join(' ');
      if (name.startsWith('_')) continue; // hidden: a child the demo runs, not a user's command
      const args = ((s as unknown as { registeredArguments?: Array<{ name(): string; required: boolean; variadic: boolean }> }).registeredArguments ?? []);
      // a group with subcommands and no action of its own (image, plan, fixture) is only its children
      const group = s.commands.length > 0 && !['qmp', 'drill'].includes(name);
      if (!group) out.push({ cmd: name, options: s.options as Option[], positionals: args.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })) });
      walk(s, [...path, s.name()]);
    }
  };
  walk(program, []);
  return out;
}

/** Removes a flag (and its value) from argv. */
function without(args: Arg[], flag: string, takesValue: boolean): Arg[] {
  const out: Arg[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) { if (takesValue) i++; continue; }
    out.push(args[i]!);
  }
  return out;
}

/** The positional slots of a base argv (items not a flag or a flag's value), in order. */
function positionalIndexes(args: Arg[], decl: Decl): number[] {
  const valueFlags = new Set(decl.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter(Boolean) as string[]));
  const idx: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (typeof a === 'string' && a.startsWith('-') && a.length > 1) { if (valueFlags.has(a)) i++; continue; }
    idx.push(i);
  }
  return idx;
}

export async function buildMatrix(): Promise<{ cells: Cell[]; uncovered: string[] }> {
  const cells: Cell[] = [];
  const uncovered: string[] = [];
  const add = (c: Omit<Cell, 'n' | 'store'> & { store?: StoreState }) => cells.push({ n: cells.length, store: 'good', ...c, ...(c.cmd === 'qmp' ? { input: QMP_INPUT } : {}) });
  for (const d of await commandTable()) {
    const base = BASE[d.cmd];
    if (!base) { uncovered.push(d.cmd); continue; }
    add({ cmd: d.cmd, kind: 'base', what: 'base', args: base });
    add({ cmd: d.cmd, kind: 'unknown', what: '--no-such-flag', args: [...base, '--no-such-flag'] });
    add({ cmd: d.cmd, kind: 'unknown', what: '--no-such-flag=1', args: [...base, '--no-such-flag=1'] });
    for (const o of d.options) {
      const flag = o.long ?? o.short!;
      if (flag === '--version' || flag === '--help') continue;
      const takes = o.required || o.optional;
      const rest = without(base, flag, !!takes);
      if (!takes) {
        add({ cmd: d.cmd, kind: 'flag', what: `${flag}=twice`, args: [...rest, flag, flag] });
        add({ cmd: d.cmd, kind: 'flag', what: `${flag}=with-value`, args: [...rest, `${flag}=x`] });
        continue;
      }
      const good = GOOD_BY_CMD[d.cmd]?.[flag] ?? GOOD[flag] ?? 'x';
      add({ cmd: d.cmd, kind: 'flag', what: `${flag}=missing`, args: [...rest, flag] });
      add({ cmd: d.cmd, kind: 'flag', what: `${flag}=twice`, args: [...rest, flag, good, flag, good] });
      for (const [name, v] of VALUES) add({ cmd: d.cmd, kind: 'flag', what: `${flag}=${name}`, args: [...rest, flag, v] });
      if (flag === '--db') {
        for (const s of STORE_STATES) if (s !== 'good') add({ cmd: d.cmd, kind: 'store', what: `--db=${s}`, args: [...rest, flag, '@DB'], store: s });
      } else if (PATH_FLAGS.has(flag)) {
        for (const s of PATH_STATES) add({ cmd: d.cmd, kind: 'path', what: `${flag}=${s}`, args: [...rest, flag, `@PATH:${s}`] });
      }
    }
    const slots = positionalIndexes(base, d);
    d.positionals.forEach((p, i) => {
      const at = slots[i];
      if (at === undefined) return;
      const put = (v: Arg) => base.map((a, j) => (j === at ? v : a));
      add({ cmd: d.cmd, kind: 'positional', what: `<${p.name}>=left-out`, args: base.filter((_, j) => j !== at) });
      add({ cmd: d.cmd, kind: 'positional', what: `<${p.name}>=extra`, args: [...base.slice(0, at + 1), 'extra', ...base.slice(at + 1)] });
      for (const [name, v] of VALUES) add({ cmd: d.cmd, kind: 'positional', what: `<${p.name}>=${name}`, args: put(v) });
      if (PATH_ARGS.has(p.name)) for (const s of PATH_STATES) add({ cmd: d.cmd, kind: 'path', what: `<${p.name}>=${s}`, args: put(`@PATH:${s}`) });
    });
  }
  return { cells, uncovered };
}

// ---- the world the cells run in ----

export interface World { root: string; files: string; held?: { db: string; stop: () => Promise<void> }; readOnly?: string; readOnlyWhy?: string; baseDb: string }

function cli(args: string[], input?: string, cwd = REPO) {
  return spawnSync(process.execPath, ['--import', TSX, join(REPO, 'cli/main.ts'), ...args], { encoding: 'utf8', input, cwd, timeout: 120_000 });
}

/** A store, a transcript, a scenario, a fixture, an image, a conformance dir. */
export async function makeWorld(opts: { held?: boolean; readOnly?: boolean } = {}): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), 'bg-cli-matrix-'));
  const files = join(root, 'files');
  mkdirSync(files);
  const baseDb = join(files, 'base.db');
  const made = cli(['qmp', '--db', baseDb], [
    '{"execute":"qmp_capabilities"}',
    '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
    '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
    '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n1"}}',
    '{"execute":"blockdev-del","arguments":{"node-name":"n1"}}',
  ].join('\n') + '\n');
  if (made.status !== 0) throw new Error(`could not make the base store: ${made.stderr}`);
  cli(['image', 'create', '--db', baseDb, join(files, 'img.raw'), '1M']);
  const t = readFileSync(join(REPO, 'oracle/transcripts/fuzz-nosuch-text.json'), 'utf8');
  writeFileSync(join(files, 't.json'), t);
  mkdirSync(join(files, 'conf'));
  writeFileSync(join(files, 'conf', 't.json'), t);
  writeFileSync(join(files, 'scenario.json'), JSON.stringify({ name: 'matrix', description: 'one null-co node', covers: ['matrix'], images: [], steps: [{ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n' } }, { execute: 'query-named-block-nodes', arguments: { flat: true } }] }));
  const fx = cli(['fixture', 'export', '--db', baseDb, '--out', join(files, 'fx.jsonl')]);
  if (fx.status !== 0) throw new Error(`could not export a fixture: ${fx.stderr}`);
  const world: World = { root, files, baseDb };
  if (opts.held !== false) {
    const db = join(root, 'held.db');
    cpSync(baseDb, db, { recursive: true });
    const sock = join(root, 'held.sock');
    const p = spawn(process.execPath, ['--import', TSX, join(REPO, 'cli/main.ts'), 'qmp', '--db', db, '--socket', sock], { stdio: ['ignore', 'ignore', 'ignore'] });
    for (let i = 0; i < 600 && !existsSync(sock); i++) await sleep(50);
    // its own start-up writes (the process record, LevelDB's compaction) are not a read's
    for (let prev = '', i = 0; i < 40; i++) { const now = fingerprint(db); if (now === prev) break; prev = now; await sleep(250); }
    world.held = { db, stop: async () => { p.kill('SIGTERM'); await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r))); } };
  }
  if (opts.readOnly !== false) {
    const mnt = join(root, 'ro');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'pipe' });
      cpSync(baseDb, join(mnt, 'db'), { recursive: true });
      execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' });
      world.readOnly = join(mnt, 'db');
    } catch (e) {
      world.readOnlyWhy = `mount refused: ${String((e as Error).message).split('\n')[0]}`;
    }
  }
  return world;
}

export async function closeWorld(w: World): Promise<void> {
  await w.held?.stop();
  if (w.readOnly) { try { execFileSync('umount', [join(w.root, 'ro')], { stdio: 'pipe' }); } catch { /* left mounted: said by rmSync failing */ } }
  rmSync(w.root, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A byte of a file changed at `at` (a fraction of its size). */
function flip(p: string, at: number): void {
  const size = statSync(p).size;
  const off = Math.min(size - 1, Math.floor(size * at));
  const fd = openSync(p, 'r+');
  const b = readFileSync(p).subarray(off, off + 8);
  writeSync(fd, Buffer.from(b.map((x) => x ^ 0x5a)), 0, b.length, off);
  closeSync(fd);
}

/** Makes the --db of a cell in its state; returns the path given to --db. */
async function makeStore(w: World, cellDir: string, s: StoreState): Promise<string> {
  const db = join(cellDir, 'db');
  switch (s) {
    case 'good': cpSync(w.baseDb, db, { recursive: true }); return db;
    case 'missing': return db;
    case 'empty-dir': mkdirSync(db); return db;
    case 'regular-file': writeFileSync(db, 'not a store\n'); return db;
    case 'symlink-loop': symlinkSync(join(cellDir, 'loop2'), db); symlinkSync(db, join(cellDir, 'loop2')); return db;
    case 'fifo': execFileSync('mkfifo', [db]); return db;
    case 'dev-null': return '/dev/null';
    case 'non-leveldb': mkdirSync(db); writeFileSync(join(db, 'README'), 'hello'); mkdirSync(join(db, 'sub')); writeFileSync(join(db, 'sub', 'x.json'), '{}'); return db;
    case 'foreign-leveldb': {
      const { ClassicLevel } = await import('classic-level');
      const l = new ClassicLevel(db);
      for (let i = 0; i < 20; i++) await l.put(`other-${i}`, 'world');
      await l.close();
      return db;
    }
    case 'held': return w.held?.db ?? db;
    case 'read-only': return w.readOnly ?? db;
    case 'damaged-record': {
      cpSync(w.baseDb, db, { recursive: true });
      // one record's bytes changed through LevelDB itself: the database is sound, the record lies
      const { ClassicLevel } = await import('classic-level');
      const l = new ClassicLevel<Buffer, Buffer>(db, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      let done = false;
      for await (const [k, v] of l.iterator()) {
        const text = v.toString('latin1');
        const at = text.indexOf('"n0"');
        if (at >= 0) { const nv = Buffer.from(v); nv[at + 2] = 'q'.charCodeAt(0); await l.put(k, nv); done = true; break; }
      }
      await l.close();
      if (!done) throw new Error('no record names n0');
      return db;
    }
    case 'damaged-wal': {
      cpSync(w.baseDb, db, { recursive: true });
      const wal = readdirSync(db).filter((n) => /^\d+\.log$/.test(n)).sort().pop();
      if (wal && statSync(join(db, wal)).size > 64) flip(join(db, wal), 0.5);
      else for (const n of readdirSync(db).filter((x) => x.endsWith('.ldb'))) flip(join(db, n), 0.5);
      return db;
    }
    case 'damaged-manifest': {
      cpSync(w.baseDb, db, { recursive: true });
      for (const n of readdirSync(db).filter((x) => x.startsWith('MANIFEST-'))) flip(join(db, n), 0.3);
      return db;
    }
  }
}

function makePath(cellDir: string, s: (typeof PATH_STATES)[number]): string {
  const p = join(cellDir, `p-${s}`);
  switch (s) {
    case 'missing-parent': return join(cellDir, 'no', 'such', 'x');
    case 'empty-dir': mkdirSync(p); return p;
    case 'regular-file': writeFileSync(p, 'a regular file\n'); return p;
    case 'symlink-loop': symlinkSync(p + '2', p); symlinkSync(p, p + '2'); return p;
    case 'fifo': execFileSync('mkfifo', [p]); return p;
    case 'dev-null': return '/dev/null';
  }
}

/** Names, kinds, sizes, modes, mtimes (ns) and sha1 of everything under p (a symlink not followed). */
export function fingerprint(p: string, skip: Set<string> = new Set(), rootTimes = true): string {
  const out: string[] = [];
  const walk = (q: string, rel: string) => {
    if (skip.has(q)) return;
    let st;
    try { st = lstatSync(q, { bigint: true }); } catch { out.push(`${rel} (absent)`); return; }
    const kind = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : 'o';
    const sum = kind === 'f' ? createHash('sha1').update(readFileSync(q)).digest('hex') : '';
    // a cwd's own size and mtime change when an --out target is made in it: its entries say what was made
    out.push(rel === '.' && !rootTimes ? `. ${kind}` : `${rel} ${kind} ${st.size} ${st.mode.toString(8)} ${st.mtimeNs} ${sum}`);
    if (kind === 'd') { let names: string[] = []; try { names = readdirSync(q).sort(); } catch { out.push(`${rel}/(unreadable)`); } for (const n of names) walk(join(q, n), `${rel}/${n}`); }
  };
  walk(p, '.');
  return out.join('\n');
}

export interface Result { n: number; cmd: string; what: string; store: StoreState; status: number | null; signal: string | null; stopped: boolean; ms: number; why: string[]; stderr: string }

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

export async function runCell(w: World, c: Cell, opts: { timeoutMs?: number } = {}): Promise<Result> {
  const cellDir = join(w.root, 'cells', String(c.n));
  rmSync(cellDir, { recursive: true, force: true });
  mkdirSync(cellDir, { recursive: true });
  const cwd = join(cellDir, 'cwd');
  mkdirSync(cwd);
  const needsDb = c.args.includes('@DB');
  const db = needsDb ? await makeStore(w, cellDir, c.store) : '';
  const outs = new Set<string>();
  const args: Arg[] = c.args.map((a, i) => {
    if (typeof a !== 'string') return a;
    let v = a;
    if (v.startsWith('@PATH:')) v = makePath(cellDir, v.slice(6) as (typeof PATH_STATES)[number]);
    v = v.replace(/^@DB$/, db).replace(/^@CELL/, cwd).replace(/^@F/, w.files);
    if (i > 0 && c.args[i - 1] === '--out') outs.add(resolve(cwd, v));
    return v;
  });
  const read = isRead(c.cmd, args);
  const watched = read && needsDb && c.store !== 'dev-null' ? db : undefined;
  const storeBefore = watched ? fingerprint(watched) : '';
  const cwdBefore = fingerprint(cwd, outs, false);
  const argvFile = join(cellDir, 'cell.argv.json');
  writeFileSync(argvFile, JSON.stringify([...c.cmd.split(' '), ...args]));
  const serves = SERVES.has(c.cmd);
  const timeoutMs = opts.timeoutMs ?? (serves ? 8_000 : COSTLY.has(c.cmd) ? 180_000 : 60_000);
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', TSX, CELL_RUNNER, argvFile], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.setEncoding('utf8'); child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => { if (stdout.length < 4 << 20) stdout += d; });
  child.stderr.on('data', (d: string) => { if (stderr.length < 8 << 20) stderr += d; });
  child.stdin.on('error', () => undefined);
  child.stdin.end(c.input ?? '');
  let stopped = false, killed = false;
  const timer = setTimeout(() => {
    stopped = true;
    child.kill('SIGTERM');
    setTimeout(() => { if (child.exitCode === null && child.signalCode === null) { killed = true; child.kill('SIGKILL'); } }, 10_000).unref();
  }, timeoutMs);
  const [status, signal] = await new Promise<[number | null, string | null]>((r) => child.once('close', (code, sig) => r([code, sig])));
  clearTimeout(timer);
  const ms = Date.now() - t0;
  const why: string[] = [];
  if (killed) why.push('did not stop within 10 s of SIGTERM (SIGKILLed)');
  else if (stopped && !serves && !RUNS_LONG.has(c.cmd)) why.push(`hang: still running after ${timeoutMs / 1000} s`);
  else if (signal && !stopped) why.push(`died of ${signal}`);
  // a server stopped by SIGTERM exits 0 (or 130/143); one that failed on its own meanwhile with a code is fine too
  const allowed = stopped ? [0, 1, 2, 3, 4, 74, 130, 143] : [0, 1, 2, 3, 4, 74];
  if (status !== null && !allowed.includes(status)) why.push(`exit ${status}${status === 70 ? ' (internal)' : ''}, not in ${allowed.join('/')}`);
  if (STACK.test(stderr) || STACK.test(stdout)) why.push('stack trace');
  if (/FATAL ERROR|Segmentation fault|Abort(ed)? \(core/.test(stderr)) why.push('V8 or native crash');
  const reportOnStdout = (c.cmd === 'verify' || c.cmd === 'repair') && status === 3 && stdout.trim() !== '';
  if (status !== null && [2, 3, 4, 74].includes(status) && !reportOnStdout && !/\[BG_[A-Z_]+\]/.test(stderr)) why.push(`exit ${status} without a [BG_*] code on stderr`);
  if (stopped && status !== null && [1, 2, 3, 4, 74].includes(status) && !/\[BG_[A-Z_]+\]/.test(stderr)) why.push(`exit ${status} after SIGTERM without a [BG_*] code`);
  if (status === 0 && !stopped && args.includes('--json') && !args.includes('--out')) {
    try {
      if (c.cmd === 'tail') stdout.trim().split('\n').filter(Boolean).forEach((l) => JSON.parse(l));
      else JSON.parse(stdout);
    } catch { why.push('--json output is not JSON'); }
  }
  if (watched) {
    const after = fingerprint(watched);
    if (after !== storeBefore) why.push(`a read changed the store:\n--- before\n${storeBefore}\n--- after\n${after}`);
  }
  if (read) {
    const after = fingerprint(cwd, outs, false);
    if (after !== cwdBefore) why.push(`a read created files:\n${after}`);
  }
  rmSync(cellDir, { recursive: true, force: true });
  return { n: c.n, cmd: c.cmd, what: c.what, store: c.store, status, signal, stopped, ms, why, stderr: stderr.trim().split('\n').slice(0, 3).join(' | ').slice(0, 600) };
}

/** A seeded sample (mulberry32), the same for the same seed. */
export function sample<T>(xs: T[], n: number, seed: number): T[] {
  let s = seed >>> 0;
  const rnd = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const pool = [...xs];
  const out: T[] = [];
  while (out.length < n && pool.length) out.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0]!);
  return out;
}

export async function runAll(w: World, cells: Cell[], jobs: number, onResult: (r: Result) => void): Promise<Result[]> {
  const results: Result[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < cells.length) {
      const c = cells[next++]!;
      const r = await runCell(w, c);
      results.push(r);
      onResult(r);
    }
  }));
  return results.sort((a, b) => a.n - b.n);
}

async function cliMain(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (f: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
  const { cells: all, uncovered } = await buildMatrix();
  let cells = all;
  const only = opt('--only');
  if (only) cells = cells.filter((c) => `${c.cmd} ${c.what}`.includes(only));
  if (argv.includes('--cheap')) cells = cells.filter((c) => !COSTLY.has(c.cmd));
  if (opt('--sample')) cells = sample(cells, Number(opt('--sample')), Number(opt('--seed') ?? 1)).sort((a, b) => a.n - b.n);
  const w = await makeWorld();
  if (w.readOnlyWhy) { console.log(`read-only store: ${w.readOnlyWhy}; its cells are left out`); cells = cells.filter((c) => c.store !== 'read-only'); }
  console.log(`${all.length} cells from the command table${uncovered.length ? ` (commands with no base invocation, not covered: ${uncovered.join(', ')})` : ''}; running ${cells.length}`);
  const t0 = Date.now();
  let done = 0;
  try {
    const results = await runAll(w, cells, Number(opt('--jobs') ?? 2), (r) => {
      done++;
      if (argv.includes('--all-lines') && !r.why.length) console.log(`ok   #${r.n} ${r.cmd} ${r.what} exit ${r.status}${r.stopped ? ' (stopped)' : ''} ${r.ms} ms ${r.stderr.slice(0, 160)}`);
      if (r.why.length) console.log(`FAIL #${r.n} ${r.cmd} ${r.what} exit ${r.status}${r.stopped ? ' (stopped)' : ''} ${r.ms} ms\n     ${r.why.join('\n     ')}\n     stderr: ${r.stderr}`);
      else if (done % 100 === 0) console.log(`… ${done}/${cells.length} (${Math.round((Date.now() - t0) / 1000)} s)`);
    });
    const failed = results.filter((r) => r.why.length);
    const byExit = new Map<string, number>();
    for (const r of results) { const k = r.stopped ? 'stopped' : String(r.status); byExit.set(k, (byExit.get(k) ?? 0) + 1); }
    const byRule = new Map<string, number>();
    for (const r of failed) for (const y of r.why) { const k = y.split(/[:\n]/)[0]!.replace(/\d+/g, 'N'); byRule.set(k, (byRule.get(k) ?? 0) + 1); }
    console.log(`\n${results.length} cells in ${Math.round((Date.now() - t0) / 1000)} s; ${failed.length} broke a rule`);
    console.log(`exits: ${[...byExit].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    if (byRule.size) console.log(`rules broken: ${[...byRule].map(([k, v]) => `${v}× ${k}`).join('; ')}`);
    const jsonOut = opt('--json');
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cells: all.length, ran: results.length, uncovered, readOnly: w.readOnlyWhy ?? 'tmpfs remounted ro', results }, null, 1));
    return failed.length ? 1 : 0;
  } finally {
    if (!argv.includes('--keep')) await closeWorld(w);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cliMain().then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 2; });
}
