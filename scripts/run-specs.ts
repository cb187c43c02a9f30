// Loads every spec under specs/ into one uvu run (as uvu's own CLI does), so that
// TypeScript specs run through tsx without a build step. Optional argument: a substring filter.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from 'uvu/run';

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.spec.ts')) out.push(resolve(p));
  }
  return out;
}

const filter = process.argv[2];
const files = walk('specs', []).filter((f) => !filter || f.includes(filter));
await run(files.map((file) => ({ name: file.slice(resolve('specs').length + 1), file })), { bail: false });
