// Import of real QEMU sessions: oracle transcripts and qmp-shell -l logs. The qmp-shell logs
// here were written with Python's json.dumps exactly as qmp-shell's _print writes its log
// (compact, and -p: indent=4, sort_keys), from the answers the real daemon gave in the oracle
// transcripts of the same name.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectFormat, importQmpLog, parseQmpShellLog } from '../../oracle/import.js';
import { parseScenario } from '../../oracle/format.js';
import { createImagesWithQemuImg, findExecutable } from '../../oracle/qsd.js';
import { verifyReplay } from '../../replay/replay.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const ORACLE = 'oracle/transcripts';
const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
const hasQemuImg = findExecutable('qemu-img') !== undefined;

test('oracle transcript: every step agrees, the log replays, no disagreement records', async () => {
  const text = readFileSync(`${ORACLE}/reopen-atomic-list.json`, 'utf8');
  assert.is(detectFormat(text), 'oracle');
  const log = await openMemory();
  const r = await importQmpLog(log, text, { source: 'reopen-atomic-list' });
  assert.is(r.steps.length, 6);
  assert.is(r.disagreed, 0, JSON.stringify(r.steps.filter((s) => !s.agreed)));
  const recs = await log.readAll();
  assert.is(recs.filter((x) => x.type === 'command.rejected').length, 2, 'the two refused reopens are logged as refusals');
  assert.ok(!recs.some((x) => x.type === 'import.disagreed'));
  assert.ok((await verifyReplay(log)).ok);
});

test('oracle transcript with a doctored answer: the step disagrees and an import.disagreed record follows it', async () => {
  const t = JSON.parse(readFileSync(`${ORACLE}/reopen-atomic-list.json`, 'utf8'));
  t.steps[2].result.desc = 'L2 cache entry size must be odd';
  t.steps[4].result = { ok: false, class: 'GenericError', desc: 'made up' };
  const log = await openMemory();
  const r = await importQmpLog(log, JSON.stringify(t), { source: 'doctored' });
  assert.equal(r.steps.map((s) => s.agreed), [true, true, false, true, false, true]);
  assert.equal([r.steps[2]!.outcome, r.steps[2]!.errorText], [true, false]);
  assert.equal([r.steps[4]!.outcome, r.steps[4]!.errorText], [false, false]);
  const recs = await log.readAll();
  const notes = recs.filter((x) => x.type === 'import.disagreed');
  assert.equal(notes.map((x) => x.seq), r.records);
  assert.equal(notes.map((x) => (x.data as { step: number }).step), [2, 4]);
  const d = notes[0]!.data as { qemu: { desc: string }; model: { desc: string } };
  assert.is(d.qemu.desc, 'L2 cache entry size must be odd');
  assert.is(d.model.desc, 'L2 cache entry size must be a power of two between 512 and the cluster size (65536)');
  // the note sits between step 2's refusal and step 3's
  const i = recs.indexOf(notes[0]!);
  assert.match(JSON.stringify(recs[i - 1]!.data), 'L2 cache entry size must be a power of two');
  assert.match(JSON.stringify(recs[i + 1]!.data), "node-name='nosuch'");
  assert.ok((await verifyReplay(log)).ok, 'the notes leave the log replayable');
});

test('qmp-shell log: compact and pretty (-p) forms parse to the same commands', () => {
  const a = parseQmpShellLog(readFileSync('specs/import/commit-intermediate.qmp-shell.log', 'utf8'));
  const b = parseQmpShellLog(readFileSync('specs/import/commit-intermediate.qmp-shell-pretty.log', 'utf8'));
  assert.is(a.length, 8);
  assert.equal(a.map((e) => [e.execute, e.arguments, e.reply]), b.map((e) => [e.execute, e.arguments, e.reply]));
  assert.is(b[1]!.line, 14);
  assert.is(detectFormat(readFileSync('specs/import/commit-intermediate.qmp-shell-pretty.log', 'utf8')), 'qmp-shell');
  for (const [bad, msg] of [['{"execute": "x"', /cut off/], ['{"arguments": {}, "return": {}}', /no 'execute'/], ['{"execute": "x"}', /neither 'return' nor 'error'/], ['[1]', /expected a JSON object/]] as const) {
    assert.throws(() => parseQmpShellLog(bad), (e: { code: string; message: string }) => e.code === 'BG_BAD_INPUT' && msg.test(e.message));
  }
});

if (!hasQemuImg) console.log('SKIP qmp-shell import against real images: qemu-img is not installed');
else {
  test('qmp-shell log with real images: images learned with qemu-img info, job progress inferred, all agree', async () => {
    const t = tempDir();
    try {
      await createImagesWithQemuImg(parseScenario(readFileSync(`${ORACLE}/job-commit-intermediate.json`, 'utf8')), t.dir);
      for (const file of ['commit-intermediate.qmp-shell.log', 'commit-intermediate.qmp-shell-pretty.log']) {
        const log = await openMemory();
        const r = await importQmpLog(log, readFileSync(`specs/import/${file}`, 'utf8'), { imageDir: t.dir, source: file });
        assert.is(r.format, 'qmp-shell');
        assert.is(r.disagreed, 0, JSON.stringify(r.steps.filter((s) => !s.agreed)));
        const images = (await log.readAll()).filter((x) => x.type === 'txn.begun' && (x.data as { op: string }).op === 'x-blockgraph-image-create');
        assert.equal(images.map((x) => (x.data as { args: { file: string; backing?: string } }).args.file), ['base.qcow2', 'mid.qcow2', 'top.qcow2']);
      }
    } finally {
      t.done();
    }
  });

  test('CLI: qmp-shell import with a wrong error text exits 1 and logs import.disagreed; --help; bad --format is exit 2', async () => {
    const t = tempDir();
    try {
      await createImagesWithQemuImg(parseScenario(readFileSync(`${ORACLE}/reopen-atomic-list.json`, 'utf8')), t.dir);
      const text = readFileSync('specs/import/reopen-atomic-list.qmp-shell.log', 'utf8').replace("Failed to find node with node-name='nosuch'", 'No such node');
      writeFileSync(t.dir + '/s.log', text);
      const r = bg('import', t.dir + '/s.log', '--db', t.dir + '/db', '--image-dir', t.dir, '--json');
      assert.is(r.status, 1, r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.steps.map((s: { agreed: boolean }) => s.agreed), [true, true, true, false, true, true]);
      const log = bg('log', '--json', '--db', t.dir + '/db');
      const notes = JSON.parse(log.stdout).filter((x: { type: string }) => x.type === 'import.disagreed');
      assert.is(notes.length, 1);
      assert.is(notes[0].data.qemu.desc, 'No such node');
      assert.is(notes[0].data.model.desc, "Failed to find node with node-name='nosuch'");
      assert.is(bg('import', '--help').status, 0);
      assert.is(bg('import', t.dir + '/s.log', '--db', t.dir + '/db2', '--format', 'hmp').status, 2);
    } finally {
      t.done();
    }
  });
}

test.run();
