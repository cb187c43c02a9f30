// Re-records the daemon transcripts against a real qemu-storage-daemon and requires byte
// identity: the proof that harness, normalizer and printer are the oracle's own rules. The sets:
// oracle/transcripts and the iotests port, on 7.2 and (their twins) on 10.0.
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTranscript, printTranscript, runScenario, scenarioOf } from '../../oracle/index.js';
import { onHostOf, recordingRoot } from '../../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../../oracle/temp-dirs.js';
import { createImagesWithQemuImg, qsdAvailable, spawnQsd } from '../../oracle/qsd.js';
import { findQemuBinaries, type QemuBinaries } from '../../oracle/qemu-bins.js';
import { sameUpToWaitBoundaries } from './rerecord-match.js';
import { liveAll, liveSelection, liveWidth, prefetching } from './live-set.js';

const DIR = resolve('oracle/transcripts');
/** the sets beside oracle/transcripts: in npm test their first transcript each, all with test:live */
const MORE: { dir: string; v: '7.2' | '10.0' }[] = [
  { dir: resolve('oracle/transcripts/iotests'), v: '7.2' },
  { dir: resolve('oracle/transcripts/qemu-10.0'), v: '10.0' },
  { dir: resolve('oracle/transcripts/qemu-10.0/iotests'), v: '10.0' },
];
/** recordings of one transcript before it counts as different (see the test's comment) */
const ATTEMPTS = 3;

test('a missing daemon is BG_UNSUPPORTED with a clear message', async () => {
  try {
    await spawnQsd(tmpdir(), { bin: 'no-such-qemu-storage-daemon' });
    assert.unreachable('spawned');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'BG_UNSUPPORTED');
    assert.match((e as Error).message, /not installed/);
  }
});

if (!qsdAvailable()) {
  console.log('skipped: qemu-storage-daemon not installed (apt-get install -y qemu-utils qemu-system-common)');
  test('qsd live re-recording (skipped: qemu-storage-daemon not installed)', () => undefined);
} else {
  // npm test: a fixed sample with every area in it; npm run test:live: all of them (live-set.ts)
  rerecordsAll(DIR, '7.2', liveSelection(jsonIn(DIR), liveAll()));
  for (const { dir, v } of MORE) {
    const bins = findQemuBinaries(v);
    if (!bins) {
      console.log(`skipped: ${dir} is not re-recorded: QEMU ${v} is not installed (scripts/fetch-qemu-10.sh)`);
      test(`qsd ${v} live re-recording of ${dir} (skipped: QEMU ${v} not installed)`, () => undefined);
      continue;
    }
    rerecordsAll(dir, v, liveAll() ? liveSelection(jsonIn(dir), true) : jsonIn(dir).sort().slice(0, 1), bins);
  }
}

function jsonIn(dir: string): string[] {
  return readdirSync(dir).filter((x) => x.endsWith('.json'));
}

function rerecordsAll(dir: string, v: '7.2' | '10.0', files: string[], bins?: QemuBinaries): void {
  const shown = dir.slice(resolve('oracle/transcripts').length + 1);
  const recorded = prefetching(files.length, liveWidth(), (i) => rerecord(dir, files[i]!, bins));
  files.forEach((f, i) => {
    test(`re-recording ${shown ? `${shown}/` : ''}${f} on QSD ${v} gives the same bytes`, async () => {
      const r = await recorded(i);
      if (r.note) console.log(`  ${shown ? `${shown}/` : ''}${f}: ${r.note}`);
      if (r.misses) assert.unreachable(r.misses);
    });
  });
}

/**
 * Records one transcript's scenario again, at most ATTEMPTS times, on a host like the one it was
 * recorded on (its `host` member), whose facts it then carries. QEMU's own timing: a job that
 * fails on its first I/O (a read error a backup meets in its first task) ends in a bottom half
 * that may run before or after the harness's graph query of the step that started it; the
 * recorded transcript holds one of the two. A recording that differs is taken again, and every
 * attempt's first difference is reported if none matches.
 */
async function rerecord(from: string, f: string, bins?: QemuBinaries): Promise<{ note?: string; misses?: string }> {
  const text = readFileSync(join(from, f), 'utf8');
  const scenario = scenarioOf(parseTranscript(text));
  const root = recordingRoot(scenario);
  const misses: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // named after this process: a killed spec run's directory is swept by the next fuzz/record run
    const dir = makeOwnedDirSync(root, 'bg-oracle');
    try {
      // qemu-img and qemu-io of the same version make the images (as `qmp record --qemu` does)
      await createImagesWithQemuImg(scenario, dir, bins);
      const t = await runScenario(onHostOf(scenario, root), (proc) => spawnQsd(dir, { label: proc, ...(bins ? { bin: bins.qsd } : {}) }), { dir });
      const out = printTranscript(t);
      if (out !== text && sameUpToWaitBoundaries(text, out)) {
        return { note: "a job's events fell on the other side of a command/wait boundary (QEMU timing)" };
      }
      if (out === text) {
        return misses.length ? { note: `matched at attempt ${attempt} (QEMU timing; before: ${misses.join(' | ')})` } : {};
      }
      const a = text.split('\n');
      const b = out.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      misses.push(`first difference at line ${i + 1}:\n- ${a[i]}\n+ ${b[i]}`);
    } finally {
      removeOwnedSync(dir);
    }
  }
  return { misses: misses.join('\n') };
}

test.run();
