// commander's own refusals carry the same stable code as every other bad input (docs/hostile.md
// round 7, found by scripts/cli-matrix.ts: 1 in 4 of its failing cells): an unknown option, an
// option without its value, a missing argument and an unknown command printed commander's bare
// `error: …` with no [BG_*] code, so a script could not tell them from any other exit 2.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageLine } from '../../cli/main.js';

const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000, input: '' });

test('unknown option, missing value, missing argument, unknown command: one coded line, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['log', '--bogus'], /^blockgraph: unknown option '--bogus' \[BG_BAD_INPUT\]\n$/],
    [['log', '--jsn'], /^blockgraph: unknown option '--jsn' \(Did you mean --json\?\) \[BG_BAD_INPUT\]\n$/],
    [['show', '--db', '/nonexistent', '--at'], /^blockgraph: option '--at <seq\|time>' argument missing \[BG_BAD_INPUT\]\n$/],
    [['qmp', 'run'], /^blockgraph: missing required argument 'file' \[BG_BAD_INPUT\]\n$/],
    [['nosuchcommand'], /^blockgraph: unknown command 'nosuchcommand' \[BG_BAD_INPUT\]\n$/],
  ];
  for (const [args, want] of cases) {
    const r = bg(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, want, args.join(' '));
    assert.is(r.stdout, '', args.join(' '));
  }
});

test('usageLine folds commander\'s lines into one', () => {
  assert.is(usageLine("error: unknown option '--x'\n(Did you mean --y?)\n"), "blockgraph: unknown option '--x' (Did you mean --y?) [BG_BAD_INPUT]\n");
});

test('image create refused by qemu-img: its text and [BG_BAD_INPUT], exit 2 (it had no code)', () => {
  const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
  try {
    const r = bg('image', 'create', '--db', `${dir}/db`, `${dir}/a.raw`, 'abc');
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stderr, "blockgraph: invalid image size 'abc' [BG_BAD_INPUT]\n");
  } finally {
    spawnSync('rm', ['-rf', dir]);
  }
});

test('report --out "" is refused before anything is made (it made ./entries, then blamed the store: exit 74)', () => {
  const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'report', '--out', '', '--db', `${dir}/nodb`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stderr, 'blockgraph: --out: an empty path [BG_BAD_INPUT]\n');
    assert.not.ok(existsSync('entries'), 'nothing made in the cwd');
  } finally {
    spawnSync('rm', ['-rf', dir]);
  }
});

test('drill --random and --length past their bounds are refused (999999999 kills ran the parent out of heap: a V8 abort)', () => {
  const scenario = 'oracle/transcripts/fuzz-nosuch-text.json';
  const kills = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'drill', scenario, '--random', '999999999'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(kills.status, 2, kills.stderr.slice(0, 300));
  assert.is(kills.stderr, 'blockgraph: --random: 999999999 is out of range (1..100000) [BG_BAD_INPUT]\n');
  const len = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'drill', scenario, '--random', '1', '--length', '10001'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(len.status, 2, len.stderr.slice(0, 300));
  assert.is(len.stderr, 'blockgraph: --length: 10001 is out of range (1..10000) [BG_BAD_INPUT]\n');
});

test('fuzz --parallel past 256 is refused (999999999 launched cases in one loop that never yielded, deaf to SIGTERM)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'fuzz', '--against', 'qsd', '--commands', '3', '--parallel', '999999999'], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  assert.is(r.status, 2, r.stderr.slice(0, 300));
  assert.is(r.stderr, 'blockgraph: --parallel 999999999: at most 256 cases at once (each starts its own daemons) [BG_BAD_INPUT]\n');
});

test.run();
