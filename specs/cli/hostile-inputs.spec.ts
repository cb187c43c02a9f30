// Round 3 of the hostile inputs (scripts/hostile-inputs.ts fixtures): a path on the command line
// that cannot be read as a file is bad input (exit 2, one line), never the store's I/O error.
// `qmp compare DIR DIR` said `store (store): EISDIR: illegal operation on a directory, read
// [BG_STORAGE_IO]` and exited 74, though no store is involved.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { inProcess } from '../store/fault-matrix.js';

test('qmp compare / qmp run: a directory or a missing file is bad input (exit 2), not a store I/O error', async () => {
  const t = tempDir('bg-hostile-inputs-');
  try {
    const dir = join(t.dir, 'd');
    mkdirSync(dir);
    const ok = join('oracle', 'transcripts', readdirSync(join('oracle', 'transcripts')).filter((f) => f.endsWith('.json')).sort()[0]!);
    for (const args of [['qmp', 'compare', dir, dir], ['qmp', 'compare', join(t.dir, 'missing'), ok], ['qmp', 'compare', ok, dir], ['qmp', 'run', dir]]) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /cannot read .*: (EISDIR|ENOENT) \[BG_BAD_INPUT\]/);
      assert.not.match(r.stderr, /BG_STORAGE_IO|\n\s+at /);
    }
  } finally {
    t.done();
  }
});

test.run();
