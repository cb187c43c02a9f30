// Re-records the daemon transcripts against a real qemu-storage-daemon and requires byte
// identity: the proof that harness, normalizer and printer are the oracle's own rules. The sets:
// oracle/transcripts and the iotests port, on 7.2 and (their twins) on 10.0.
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { qsdAvailable, spawnQsd } from '../../oracle/qsd.js';
import { findQemuBinaries, type QemuBinaries } from '../../oracle/qemu-bins.js';
import { rerecord } from './rerecord.js';
import { liveAll, liveSelection, liveWidth, prefetching } from './live-set.js';

const DIR = resolve('oracle/transcripts');
/** the sets beside oracle/transcripts: in npm test their first transcript each, all with test:live */
const MORE: { dir: string; v: '7.2' | '10.0' }[] = [
  { dir: resolve('oracle/transcripts/iotests'), v: '7.2' },
  { dir: resolve('oracle/transcripts/qemu-10.0'), v: '10.0' },
  { dir: resolve('oracle/transcripts/qemu-10.0/iotests'), v: '10.0' },
];

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
  rerecordsAll(DIR, '7.2', liveSelection(jsonIn(DIR), liveAll()), findQemuBinaries('7.2')!);
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

function rerecordsAll(dir: string, v: '7.2' | '10.0', files: string[], bins: QemuBinaries): void {
  const shown = dir.slice(resolve('oracle/transcripts').length + 1);
  const recorded = prefetching(files.length, liveWidth(), (i) => rerecord(readFileSync(join(dir, files[i]!), 'utf8'), bins));
  files.forEach((f, i) => {
    test(`re-recording ${shown ? `${shown}/` : ''}${f} on QSD ${v} gives the same bytes`, async () => {
      const r = await recorded(i);
      if (r.note) console.log(`  ${shown ? `${shown}/` : ''}${f}: ${r.note}`);
      if (r.misses) assert.unreachable(r.misses);
    });
  });
}

test.run();
