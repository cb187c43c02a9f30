// audit, diff, history, render and report as a user runs them (child processes, a real
// LevelDB written by recordHistory), and the report page in headless Chromium.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli, type History } from './helpers.js';
import { pngStats } from './png.js';

const bg = runCli;
const t = tempDir('bg-render-');
const db = t.dir + '/db';
let h: History;
let head = 0;

test.before(async () => {
  const log = await openClassic(db);
  h = await recordHistory(log);
  head = log.head;
  await log.close();
});
test.after(() => t.done());

test('audit: table and --json; --node, --type, --since/--until; bad times exit 2', async () => {
  const all = await bg('audit', '--db', db, '--wide');
  assert.is(all.status, 0, all.stderr);
  assert.match(all.stdout, /^seq +time +proc +txn +kind +command +outcome +touched\n/);
  assert.match(all.stdout, /rejected +blockdev-del \{"node-name":"base"\} +rejected: Node 'base' is busy: node is used as backing hd of 'mid'/);
  assert.match(all.stdout, new RegExp(`rolled-back by recovery at 00:00:12\\.000`));
  assert.match(all.stdout, new RegExp(`recovery +blockdev-add .* recovery rolled-back ${h.crashedTxn}`));
  const node = JSON.parse((await bg('audit', '--db', db, '--node', 'base', '--json')).stdout) as { command: string }[];
  assert.equal(node.map((r) => r.command), ['blockdev-add', 'blockdev-add', 'block-export-add', 'block-stream']);
  const rej = JSON.parse((await bg('audit', '--db', db, '--type', 'command.rejected', '--json')).stdout) as { error: { desc: string } }[];
  assert.equal(rej.map((r) => r.error.desc), ["Node 'base' is busy: node is used as backing hd of 'mid'"]);
  const win = JSON.parse((await bg('audit', '--db', db, '--since', '2026-01-01T00:00:13Z', '--until', '2026-01-01T00:00:14Z', '--json')).stdout) as { command: string }[];
  assert.equal(win.map((r) => r.command), ['blockdev-add', 'x-blockdev-set-iothread']);
  const bad = await bg('audit', '--db', db, '--since', 'yesterday-ish');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /BG_BAD_INPUT/);
});

test('diff by seq and by ISO time agree; history --json; out-of-range points exit 2', async () => {
  const bySeq = await bg('diff', String(h.marks.nbd), String(h.marks.export), '--db', db);
  assert.is(bySeq.status, 0, bySeq.stderr);
  assert.match(bySeq.stdout, /~ edge top -\[backing\]-> mid\n +perm - -> R/);
  assert.match(bySeq.stdout, /\+ edge blk\(export e0\) -\[root\]-> top +RW\/RWU/);
  // nbd-server-start ran at 00:00:08, block-export-add at 00:00:09 (one clock tick per command)
  const byTime = JSON.parse((await bg('diff', '2026-01-01T00:00:08Z', '2026-01-01T00:00:09.5Z', '--db', db, '--json')).stdout);
  const bySeqJson = JSON.parse((await bg('diff', String(h.marks.nbd), String(h.marks.export), '--db', db, '--json')).stdout);
  assert.equal(byTime, bySeqJson);
  assert.is((await bg('diff', '1', String(head + 1), '--db', db)).status, 2);
  assert.is((await bg('diff', '1', 'soon', '--db', db)).status, 2);
  const hist = JSON.parse((await bg('history', 'n0', '--db', db, '--json')).stdout) as { type: string; command: string }[];
  assert.equal(hist.map((e) => e.type), ['txn.step', 'txn.step', 'txn.compensated', 'txn.compensated', 'txn.step', 'txn.step', 'txn.step']);
  assert.match((await bg('history', 'n0', '--db', db)).stdout, /undo open n0 \(null-co\) +A node n0: removed null-co ro/);
  assert.match((await bg('history', 'nosuch', '--db', db)).stdout, /no step touched node nosuch/);
});

test('render: DOT at a seq, SVG to a file; bad format and unknown process exit 2', async () => {
  const dot = await bg('render', '--db', db, '--at', String(h.marks.top), '--format', 'dot');
  assert.is(dot.status, 0, dot.stderr);
  assert.match(dot.stdout, /^digraph blockgraph \{/);
  assert.ok(dot.stdout.includes('"A/node/top" -> "A/node/mid" [label="backing\\n-/RWUZ"];'));
  assert.not.ok(dot.stdout.includes('A/node/n0'), 'n0 did not exist yet');
  const out = t.dir + '/g.svg';
  const svg = await bg('render', '--db', db, '--format', 'svg', '--out', out, '--proc', 'A');
  assert.is(svg.status, 0, svg.stderr);
  assert.is(svg.stdout, '');
  const text = readFileSync(out, 'utf8');
  assert.ok(text.startsWith('<svg'));
  assert.ok(text.includes('<title>A/node/cor&#45;&gt;A/node/top</title>'));
  const j = JSON.parse((await bg('render', '--db', db, '--at', String(h.marks.top), '--json')).stdout);
  assert.equal([j.seq, j.format, j.text], [h.marks.top, 'dot', dot.stdout]);
  assert.is((await bg('render', '--db', db, '--format', 'png')).status, 2);
  assert.is((await bg('render', '--db', db, '--proc', 'B')).status, 2);
});

const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
const chromeArgs = (dir: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', `--user-data-dir=${dir}`];

test('report: static pages (index, timeline, one page per pictured entry); rows name their nodes; checked in headless Chromium when installed', async () => {
  const out = t.dir + '/report';
  const r = await bg('report', '--db', db, '--out', out, '--json');
  assert.is(r.status, 0, r.stderr);
  const file = out + '/index.html';
  const sum = JSON.parse(r.stdout);
  assert.equal([sum.file, sum.entries, sum.pages], [file, 15, 1]);
  const html = readFileSync(file, 'utf8');
  const page = readFileSync(out + '/timeline-0001.html', 'utf8');
  for (const h of [html, page]) {
    assert.not.match(h, /(src|href)="(https?:)?\/\//, 'no network references');
    assert.not.match(h, /<script/);
  }
  assert.ok(html.includes('href="timeline-0001.html"'));
  assert.match(html, /<b>bold blue edge<\/b>/, 'the legend');
  assert.is((html.match(/<svg /g) ?? []).length, 1, 'the graph at the head (small enough to draw)');
  // 15 entries: 11 commands that ran, the cut one, its recovery, a refusal... counted by hand in audit.spec
  assert.is((page.match(/<tr class="/g) ?? []).length, 15);
  // each blockdev-add says which node it added and which nodes it touched
  for (const [n, nodes] of [['base', 'basef, base'], ['mid', 'midf, mid, base'], ['top', 'topf, top, mid']]) {
    assert.ok(page.includes(`<td class="cmd">blockdev-add ${n}</td><td class="nodes">${nodes}</td>`), `blockdev-add ${n}`);
  }
  // pictured entries: those that changed nodes (base, mid, top, the export, the cut add and its recovery,
  // n0 again, its move, the stream); image-create, nbd-server-start, object-add and the refusal touch no node
  const entries = readdirSync(out + '/entries').sort((a, b) => Number(a.slice(1, -5)) - Number(b.slice(1, -5)));
  assert.is(entries.length, 9);
  // the cut add and its recovery leave no n0 behind: nothing to draw around
  const svgs = entries.map((e) => (readFileSync(`${out}/entries/${e}`, 'utf8').match(/<svg /g) ?? []).length);
  assert.equal(svgs, [1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const stream = `${out}/entries/${entries[8]}`;
  if (!chromium) {
    console.log('skipped: chromium not installed (apt-get install -y chromium): the pages were not rendered');
    return;
  }
  const png = t.dir + '/shot.png';
  const shot = spawnSync(chromium, [...chromeArgs(t.dir + '/chrome1'), `--screenshot=${png}`, '--window-size=1200,900', `file://${out}/timeline-0001.html`], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(existsSync(png), shot.stderr);
  assert.ok(statSync(png).size > 20_000, `a screenshot of ${statSync(png).size} bytes is too small to hold the page`);
  const s = pngStats(readFileSync(png));
  assert.equal([s.width, s.height], [1200, 900]);
  assert.ok(s.nonWhite / s.total > 0.1, `only ${s.nonWhite} non-white pixels`);
  assert.ok(s.dark > 2000, 'text and the header are drawn');
  assert.ok(s.colored > 200, 'the coloured outcome badges are drawn');
  const dom = spawnSync(chromium, [...chromeArgs(t.dir + '/chrome2'), '--dump-dom', `file://${out}/timeline-0001.html`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.is(dom.status, 0, dom.stderr);
  const rows = [...dom.stdout.matchAll(/<tr class="([^"]+)" data-seq="(\d+)"/g)];
  assert.is(rows.length, 15);
  assert.equal(rows.filter((m) => m[1]!.startsWith('rejected')).length, 1);
  assert.equal(rows.filter((m) => m[1]!.startsWith('recovery')).length, 1);
  const sdom = spawnSync(chromium, [...chromeArgs(t.dir + '/chrome3'), '--dump-dom', `file://${stream}`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  // Graphviz's node titles survive into the rendered DOM: the stream job and its filter
  assert.ok(sdom.stdout.includes('<title>A/job/j0</title>'));
  assert.ok(sdom.stdout.includes('<title>A/node/cor</title>'));
});

test('--help on every new command', async () => {
  for (const c of [['audit'], ['tail'], ['diff'], ['history'], ['render'], ['report']]) {
    const r = await bg(...c, '--help');
    assert.is(r.status, 0, c.join(' '));
    assert.match(r.stdout, /Usage: blockgraph/);
  }
});

test.run();
