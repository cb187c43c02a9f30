// The CLI as it ships (bin/blockgraph.js runs dist/, compiled by tsc), for the benches that time
// a server: under `node --import tsx` every closure the code creates is wrapped by esbuild's
// keepNames helper (`__name(fn, "name")`, an Object.defineProperty per closure created), which
// the compiled CLI never pays. builtTree() compiles the whole tree (with bench/, for the
// preloads) into a temporary directory once per run, removed when the run exits (each run left
// a 5 MB tree in /tmp before); BENCH_BUILT=DIR reuses one and keeps it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

export function builtTree(root = ROOT): string {
  const given = process.env.BENCH_BUILT;
  if (given && given !== '1' && existsSync(join(given, 'cli/main.js'))) return given;
  const out = mkdtempSync(join(tmpdir(), 'bg-built-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.json'), '--noEmit', 'false', '--declaration', 'false', '--outDir', out], { stdio: 'inherit', cwd: root });
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n');
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  return out;
}
