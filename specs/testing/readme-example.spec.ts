// README's blockgraph/testing example, run as written (a path that works in a user's package:
// the shipped transcript by name), and the errors a user meets with a wrong path or name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { given, transcript, transcripts } from '../../testing/index.js';

test('the README example passes as written', async () => {
  const t = await given.scenario(transcript('job-commit-intermediate'));
  await t.when('blockdev-del', { 'node-name': 'nosuch' });
  t.then.error("Failed to find node with node-name='nosuch'");
  t.then.stateUnchanged();
  t.then.node('base').is({ driver: 'qcow2', ro: false, aio: 'main' });
  assert.throws(() => t.then.node('base').is({ ro: true }), /node 'base' in A: expected ro true, got false/);
  await t.close();
});

test('transcript(): the shipped names (the public 64 and those recorded since); a wrong name or a path-like name is BG_NOT_FOUND', () => {
  const names = transcripts();
  assert.ok(names.length >= 64, `${names.length}`);
  for (const n of ['add-del-basic', 'job-commit-intermediate', 'reopen-atomic-list']) assert.ok(names.includes(n), n);
  assert.ok(transcript('add-del-basic.json').endsWith('/oracle/transcripts/add-del-basic.json'));
  for (const bad of ['nosuch', '../package', 'a/b']) {
    assert.throws(() => transcript(bad), (e: Error & { code?: string }) => e.code === 'BG_NOT_FOUND' && /no shipped transcript/.test(e.message));
  }
});

test('a fixture path that does not resolve says where it looked', async () => {
  try {
    await given.fixture('specs/golden/nosuch.jsonl');
    assert.unreachable('should fail');
  } catch (e) {
    const err = e as Error & { code?: string };
    assert.is(err.code, 'BG_BAD_INPUT');
    assert.match(err.message, new RegExp(`cannot read specs/golden/nosuch\\.jsonl \\(resolved to ${process.cwd()}/specs/golden/nosuch\\.jsonl\\): ENOENT`));
  }
});

test.run();
