import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'bg-'): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small explicit chain: base <- mid <- top, each qcow2 over an inline file node. */
export const CHAIN = [
  ['x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' }],
  ['x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2' }],
] as const;
