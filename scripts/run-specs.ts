// Loads every spec under specs/ into one uvu run (as uvu's own CLI does), so that
// TypeScript specs run through tsx without a build step. Optional argument: a filter, substrings of
// spec paths separated by commas (a spec runs when its path contains any of them).
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
// BG_SPECS_SKIP: comma-separated substrings of spec paths to leave out (e.g. the live
// re-recording specs while other work loads the machine); the run says what it left out
const skip = (process.env.BG_SPECS_SKIP ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const wanted = (filter ?? '').split(',').filter(Boolean);
const all = walk('specs', []).filter((f) => !wanted.length || wanted.some((w) => f.includes(w)));
const files = all.filter((f) => !skip.some((s) => f.includes(s)));
if (files.length < all.length) console.error(`BG_SPECS_SKIP left out ${all.length - files.length} spec file(s): ${all.filter((f) => !files.includes(f)).map((f) => f.slice(resolve('specs').length + 1)).join(', ')}`);
await run(files.map((file) => ({ name: file.slice(resolve('specs').length + 1), file })), { bail: false });
