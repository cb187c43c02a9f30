// Issue 11, as a user meets the CLI: every bad input exits 2 with one line and no stack trace
// and leaves the store as it was; subcommands own their --db; `| head` never crashes a
// command; the views QEMU users expect (show --chain/--node, image info, a 120-column audit,
// tail aligned like log, one BlockBackend name everywhere, a legend); help with examples.
// Expected values come from the recorded history's known commands (specs/render/helpers.ts),
// not from a run of the code under test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Command } from 'commander';
import { buildProgram, COMMANDS } from '../../cli/main.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli as bg } from '../render/helpers.js';

const t = tempDir('bg-input-');
const db = t.dir + '/db';
let head = 0;
let headHash = '';

test.before(async () => {
  const log = await openClassic(db);
  await recordHistory(log);
  head = log.head;
  headHash = log.headHash;
  await log.close();
});
test.after(() => t.done());

/** One line on stderr, naming the flag, no stack trace; exit 2. */
function usageError(r: { status: number; stdout: string; stderr: string }, what: RegExp, label: string): void {
  assert.is(r.status, 2, `${label}: exit ${r.status}\n${r.stderr}`);
  assert.is(r.stderr.trim().split('\n').length, 1, `${label}: one line, got:\n${r.stderr}`);
  assert.not.match(r.stderr, /\n\s+at /, `${label}: no stack trace`);
  assert.match(r.stderr, what, label);
  // Refused before any output: not a table header, then the refusal.
  assert.is(r.stdout, '', `${label}: nothing on stdout`);
}

async function storeUnchanged(label: string): Promise<void> {
  const log = await openClassic(db);
  try {
    assert.equal([log.head, log.headHash], [head, headHash], `${label} left the log unchanged`);
  } finally {
    await log.close();
  }
}

test('bad points, seqs, types and counts exit 2 with one line, before the store is touched', async () => {
  const cases: [string[], RegExp][] = [
    [['show', '--at', 'yesterday'], /--at: neither a seq number nor an ISO time/],
    [['show', '--at', '2026-13-45'], /--at: neither a seq number nor an ISO time.*2026-13-45/],
    [['show', '--at', '2026-02-30'], /--at: neither/],           // Date.parse would roll it over to March 2
    [['show', '--at', String(head + 1)], /--at: seq \d+ is beyond the head/],
    [['show', '--at', '2025-12-31T23:59:59Z'], /--at: .* is before the first record/],
    [['render', '--at', 'yesterday'], /--at: neither/],
    [['diff', '1', 'soon'], /B: neither/],
    [['log', '--from', 'abc'], /--from: not a seq number/],
    [['log', '--from', '0'], /--from: 0 is out of range/],
    [['log', '--from', String(head + 1)], /--from \d+ is beyond the head/],
    [['log', '--from', '5', '--to', '3'], /--to 3 is before --from 5/],
    [['log', '--to', String(head + 1)], /--to \d+ is beyond the head/],
    [['log', '--from', '2', '--to', String(head + 100)], /--to \d+ is beyond the head/],
    [['log', '--to', '1e3'], /--to: not a seq number/],
    [['audit', '--type', 'bogus'], /--type: "bogus" is not one of txn\.begun/],
    [['audit', '--type', 'rejected,bogus'], /"bogus"/],
    [['audit', '--since', 'yesterday'], /--since: not an ISO time/],
    [['tail', '--from', String(head + 1), '--no-follow'], /--from \d+ is beyond the head/],
    [['tail', '--from', String(head + 2)], /--from \d+ is beyond the head/],
    [['tail', '--limit', '0', '--no-follow'], /--limit: 0 is out of range/],
    [['tail', '--limit', 'many', '--no-follow'], /--limit: not a whole number/],
    [['report', '--out', t.dir + '/r', '--graphs', '-1'], /--graphs: not a whole number/],
    [['report', '--out', t.dir + '/r', '--last', '0'], /--last: 0 is out of range/],
    [['report', '--out', t.dir + '/r', '--page-size', '5'], /--page-size: 5 is out of range/],
    [['render', '--format', 'png'], /--format: "png" is not one of dot, svg/],
    [['fixture', 'export', '--from', 'x'], /--from: not a seq number/],
    [['drill', 'x.json', '--every', '0'], /--every: 0 is out of range/],
    [['show', '--chain', 'nosuch'], /no node 'nosuch' in process A \(nodes: basef, base/],
    [['show', '--node', 'top', '--proc', 'Z'], /no process Z/],
    [['image', 'info', 'nosuch.qcow2'], /no image 'nosuch.qcow2' in the catalogue \(images: base\.qcow2, mid\.qcow2, top\.qcow2\)/],
    [['image', 'create', 'x.img', '1M', '-f', 'vmdk'], /--format: "vmdk" is not one of qcow2, qed, raw/],
    [['plan', 'reopen', '@/nonexistent/opts.json'], /cannot read \/nonexistent\/opts\.json: ENOENT/],
  ];
  for (const [args, what] of cases) usageError(await bg(...args, '--db', db), what, args.join(' '));
  await storeUnchanged('the bad inputs');
});

test('a good value of each of those flags works (the checks are not simply refusing everything)', async () => {
  const r = await bg('log', '--db', db, '--from', '3', '--to', '4', '--json');
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).map((x: { seq: number }) => x.seq), [3, 4]);
  assert.is((await bg('show', '--db', db, '--at', '2026-01-01T00:00:05Z')).status, 0);
  assert.is((await bg('show', '--db', db, '--at', '2026-01-01')).status, 2, 'midnight is before the first record (00:00:01)');
  const aud = await bg('audit', '--db', db, '--type', 'rejected', '--json');
  assert.is(aud.status, 0, aud.stderr);
  assert.equal(JSON.parse(aud.stdout).map((x: { command: string }) => x.command), ['blockdev-del']);
  const tl = await bg('tail', '--db', db, '--from', String(head), '--no-follow');
  assert.is(tl.status, 0, tl.stderr);
  assert.is(tl.stdout.trim().split('\n').length, 2, 'the header and the one record at the head');
});

test('demo --db refuses a directory that holds a store (or anything), and writes nothing', async () => {
  usageError(await bg('demo', '--db', db), /--db .* is not empty \(it holds a store\)/, 'demo on a store');
  await storeUnchanged('demo --db on a store');
  const other = t.dir + '/notes';
  mkdirSync(other);
  writeFileSync(join(other, 'x.txt'), 'mine');
  usageError(await bg('demo', '--db', other), /is not empty/, 'demo on a non-empty directory');
  assert.is(readFileSync(join(other, 'x.txt'), 'utf8'), 'mine');
});

test("subcommands own their --db: qmp run … --db DIR writes DIR; qmp proxy --db DIR is the proxy's", async () => {
  const out = t.dir + '/run.db';
  const file = new URL('../../oracle/transcripts/add-del-basic.json', import.meta.url).pathname;
  const r = await bg('qmp', 'run', file, '--db', out, '--out', t.dir + '/run.json');
  assert.is(r.status, 0, r.stderr);
  const log = await openClassic(out);
  try {
    assert.ok(log.head > 0, 'qmp run --db wrote the run into the store');
  } finally {
    await log.close();
  }
  // The proxy needs a live daemon to run; its option parsing is checked through the real program.
  const argv = ['qmp', 'proxy', '--listen', 'l.sock', '--connect', 'c.sock', '--db', '/tmp/proxy-db'];
  const program = await buildProgram(argv);
  const qmp = program.commands.find((c) => c.name() === 'qmp')!;
  const proxy = qmp.commands.find((c) => c.name() === 'proxy')!;
  let seen: Record<string, unknown> | undefined;
  proxy.action((o: Record<string, unknown>) => { seen = o; });
  await program.parseAsync(argv, { from: 'user' });
  assert.is(seen?.db, '/tmp/proxy-db');
  assert.is(qmp.opts().db, './blockgraph.db', "qmp's own --db keeps its default");
});

const bgChild = (cmd: string) => spawnSync('bash', ['-c', `set -o pipefail; ${cmd}; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 120_000, cwd: process.cwd() });
const CLI = `${JSON.stringify(process.execPath)} --import tsx cli/main.ts`;

test('| head: log --json, fixture export and conformance --json end quietly (exit 0, no "Unhandled \'error\' event")', async () => {
  // Enough output to fill the pipe (64 KiB) after head has gone.
  const big = t.dir + '/big.db';
  const log = await openClassic(big);
  const { Engine } = await import('../../engine/engine.js');
  const e = await Engine.open(log);
  for (let i = 0; i < 150; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  await log.close();
  const dir = t.dir + '/tr';
  mkdirSync(dir);
  for (const f of ['job-commit-active.json', 'replace-snapshot-export-moves.json', 'reopen-atomic-list.json', 'aio-stream-moves.json']) {
    writeFileSync(join(dir, f), readFileSync(new URL(`../../oracle/transcripts/${f}`, import.meta.url)));
  }
  for (const cmd of [`log --json --db ${big}`, `fixture export --db ${big}`, `conformance ${dir} --json`]) {
    const r = bgChild(`${CLI} ${cmd} | head -c 100 >/dev/null`);
    assert.not.match(r.stderr, /Unhandled|EPIPE|\n\s+at /, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /status=0/, `${cmd}: ${r.stderr}`);
  }
});

test('show --chain: the backing chain as qemu-img info --backing-chain, with frozen links, jobs, AioContext', async () => {
  const r = await bg('show', '--db', db, '--chain', 'top');
  assert.is(r.status, 0, r.stderr);
  // top -> mid -> base, in that order, one block each
  assert.equal([...r.stdout.matchAll(/^node: (\S+)/gm)].map((m) => m[1]), ['top', 'mid', 'base']);
  assert.match(r.stdout, /backing chain of top \(3 nodes\)/);
  assert.match(r.stdout, /node: top\n {2}format: qcow2\n {2}file: top\.qcow2 \(node topf, file\)\n {2}virtual size: 1 MiB \(1048576 bytes\)/);
  // block-stream top -> base froze top's backing link (stream_start freezes down to base's overlay), not mid's
  assert.match(r.stdout, /backing: mid \(link 'backing', FROZEN\)/);
  assert.match(r.stdout, /backing: base \(link 'backing'\)\n/);
  assert.match(r.stdout, /node: base[\s\S]*read-only: yes/);
  assert.match(r.stdout, /jobs: j0 \(stream running, as 'active node' link\)/);
  assert.match(r.stdout, /AioContext: main/);
  // the stream's copy-on-read filter: its chain continues through its filtered child
  const cor = await bg('show', '--db', db, '--chain', 'cor');
  assert.equal([...cor.stdout.matchAll(/^node: (\S+)/gm)].map((m) => m[1]), ['cor', 'top', 'mid', 'base']);
  assert.match(cor.stdout, /filtered child: top \(link 'file', FROZEN\)/);
  const node = JSON.parse((await bg('show', '--db', db, '--node', 'n0', '--json')).stdout);
  assert.equal([node.nodes.length, node.nodes[0].aio, node.nodes[0].readOnly, node.nodes[0].format], [1, 'io0', true, 'null-co']);
});

test('one name for each BlockBackend in show, diff, audit and render; a legend in show and render', async () => {
  const name = 'blk(export e0)';
  const show = await bg('show', '--db', db);
  // block-stream's filter went in above top: the export's BlockBackend now sits on it
  assert.ok(show.stdout.includes(`${name} -[root]-> cor`), show.stdout);
  assert.match(show.stdout, /key: perm\/shared = /);
  assert.ok((await bg('diff', '1', String(head), '--db', db)).stdout.includes(`+ edge ${name} -[root]-> cor`));
  assert.ok((await bg('audit', '--db', db, '--wide')).stdout.includes(`A edge ${name} -[root]-> top`));
  const dot = (await bg('render', '--db', db)).stdout;
  assert.ok(dot.includes(`BlockBackend\\n${name}`));
  assert.ok(dot.includes('blk(job j0 stream)'), 'the job\'s BlockBackend by its owner and role');
  assert.match(dot, /"legend" \[shape="plaintext".*perm\/shared/);
  assert.not.match((await bg('render', '--db', db, '--no-legend')).stdout, /"legend"/);
});

test('audit fits 120 columns unless --wide; tail is aligned like log', async () => {
  const width = (s: string) => Math.max(...s.split('\n').map((l) => [...l].length));
  const narrow = await bg('audit', '--db', db);
  assert.ok(width(narrow.stdout) <= 120, `audit is ${width(narrow.stdout)} columns wide`);
  assert.ok(width((await bg('audit', '--db', db, '--wide')).stdout) > 120, 'this history has longer rows');
  const tl = (await bg('tail', '--db', db, '--no-follow', '--limit', '5')).stdout.trimEnd().split('\n');
  assert.match(tl[0]!, /^seq +time +proc +type +txn +what$/);
  // every row starts its columns where the header does
  const cols = (l: string) => [...l.matchAll(/(?<=^| {2})\S/g)].map((m) => m.index);
  for (const l of tl.slice(1, 4)) assert.equal(cols(l).slice(0, 5), cols(tl[0]!).slice(0, 5), l);
});

test('image create defaults to raw (qemu-img create); image info shows it and who has it open', async () => {
  const d = t.dir + '/img.db';
  const c = await bg('image', 'create', 'disk.img', '1M', '--db', d);
  assert.is(c.status, 0, c.stderr);
  assert.match(c.stdout, /Formatting 'disk\.img', fmt=raw size=1M/);
  const i = await bg('image', 'info', 'disk.img', '--db', d);
  assert.is(i.status, 0, i.stderr);
  assert.match(i.stdout, /image: disk\.img\nfile format: raw\nvirtual size: 1 MiB \(1048576 bytes\)/);
  const chain = JSON.parse((await bg('image', 'info', 'top.qcow2', '--backing-chain', '--json', '--db', db)).stdout) as { file: string; openedBy: string[] }[];
  assert.equal(chain.map((x) => x.file), ['top.qcow2', 'mid.qcow2', 'base.qcow2']);
  assert.equal(chain[2]!.openedBy, ['A node basef (ro)']);
});

test('help: every command has an example; qmp lists every subcommand; the light help lines match the modules; --version', async () => {
  const all = await buildProgram([], { all: true });
  const walk = (c: Command, path: string[]): string[][] => [path, ...c.commands.filter((x) => x.name() !== 'help' && !x.name().startsWith('_')).flatMap((x) => walk(x, [...path, x.name()]))];
  const paths = walk(all, []).filter((p) => p.length);
  assert.ok(paths.length >= 25, `${paths.length} commands`);
  for (const p of paths) {
    const r = await bg(...p, '--help');
    assert.is(r.status, 0, p.join(' '));
    // a group (image, plan, fixture) lists its commands; every runnable command shows an example
    const group = all.commands.find((c) => c.name() === p[0])!;
    const cmd = p.slice(1).reduce((c, n) => c.commands.find((x) => x.name() === n)!, group);
    if (cmd.commands.length && !(cmd as unknown as { _actionHandler?: unknown })._actionHandler) continue;
    assert.match(r.stdout, /Examples?:\n {2}\$ blockgraph /, `${p.join(' ')} --help has an example`);
  }
  const qmp = (await bg('qmp', '--help')).stdout;
  for (const s of ['run', 'record', 'proxy', 'compare']) assert.match(qmp, new RegExp(`\\n  ${s} `), `qmp help lists ${s}`);
  for (const c of all.commands) {
    if (c.name() === 'help' || c.name().startsWith('_')) continue;
    assert.is(COMMANDS[c.name()]?.description, c.description(), `the top-level help line of ${c.name()} is its module's`);
  }
  const v = await bg('--version');
  assert.is(v.stdout.trim(), JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
});

test.run();
