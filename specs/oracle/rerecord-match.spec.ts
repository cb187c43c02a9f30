import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTranscript, printTranscript } from '../../oracle/index.js';
import { sameUpToWaitBoundaries } from './rerecord-match.js';

const text = readFileSync('oracle/transcripts/fuzz-backup-quorum-read-vote-fails.json', 'utf8');
type Steps = { steps: { events?: unknown[]; result?: unknown; wait?: unknown }[] };
const edit = (f: (t: Steps) => void): string => {
  const t = parseTranscript(text);
  f(t as unknown as Steps);
  return printTranscript(t);
};

test("a job's events on the other side of a command/wait boundary: the same recording", () => {
  // step 1 is drive-backup d0, step 2 the wait for it: the first event of the wait moved up
  const moved = edit((t) => { t.steps[1]!.events!.push(t.steps[2]!.events!.shift()); });
  assert.is.not(moved, text);
  assert.ok(sameUpToWaitBoundaries(text, moved));
});

test('events in another order, or moved across a boundary that is not a wait, or a result changed: different', () => {
  const swapped = edit((t) => { const e = t.steps[2]!.events!; [e[0], e[1]] = [e[1], e[0]]; });
  assert.not.ok(sameUpToWaitBoundaries(text, swapped));
  // step 2 (a wait) and step 3 (job-dismiss): a command after a wait is its own step
  const intoNext = edit((t) => { t.steps[3]!.events = [t.steps[2]!.events!.pop()]; });
  assert.not.ok(sameUpToWaitBoundaries(text, intoNext));
  const result = edit((t) => { t.steps[3]!.result = { ok: true }; });
  assert.not.ok(sameUpToWaitBoundaries(text, result));
});

test.run();
