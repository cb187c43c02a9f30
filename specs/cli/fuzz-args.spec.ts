// `blockgraph fuzz` refuses bad arguments with exit 2 and a message, before starting any daemon.
// In-process (cli/main.ts's main), so the spec costs no child processes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../cli/main.js';

async function bg(...args: string[]): Promise<{ status: number; stderr: string }> {
  const orig = console.error;
  let stderr = '';
  console.error = (...xs: unknown[]) => { stderr += xs.join(' ') + '\n'; };
  try {
    return { status: await main(args), stderr };
  } finally {
    console.error = orig;
  }
}

test('fuzz: a peer other than qsd, a bad number, an unwritable --out: exit 2, nothing run', async () => {
  const a = await bg('fuzz', '--against', 'qemu');
  assert.is(a.status, 2, a.stderr);
  assert.match(a.stderr, /--against must be 'qsd'/);
  const b = await bg('fuzz', '--against', 'qsd', '--commands', 'lots');
  assert.is(b.status, 2, b.stderr);
  assert.match(b.stderr, /--commands must be a non-negative integer/);
  // a directory below a plain file (ENOTDIR)
  const dir = mkdtempSync(join(tmpdir(), 'bg-fuzz-args-'));
  try {
    writeFileSync(join(dir, 'file'), '');
    const c = await bg('fuzz', '--against', 'qsd', '--out', join(dir, 'file', 'out'), '--commands', '1');
    assert.is(c.status, 2, c.stderr);
    assert.match(c.stderr, /is not a writable directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
