// Fuzz 3337831775: a qcow2 node whose image holds a bitmap directory keeps its offset over a
// `file` child moved by blockdev-reopen, and QEMU's own query-named-block-nodes then fails
// (qcow2_get_bitmap_info_list -> bitmap_list_load: "Broken bitmap directory", 7.2 and 10.0).
// The generator avoids the move (oracle/fuzz/query-breaks.ts); the view it decides from is the
// recorded boundary transcript fuzz-reopen-bitmap-dir-same-image, where the move onto another
// protocol node of the same image keeps the query working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { queryBreaks, World } from '../../oracle/fuzz/index.js';
import type { CommandStep, Step, Transcript } from '../../oracle/format.js';

const t = JSON.parse(readFileSync(new URL('../../oracle/transcripts/fuzz-reopen-bitmap-dir-same-image.json', import.meta.url), 'utf8')) as Transcript;
const reopen = (file: unknown): CommandStep => ({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'n0', backing: null, 'read-only': false, file }] } } as CommandStep);
const viewAfter = (skip: number[] = []) => {
  const w = new World();
  // every step but the last reopen (the one this boundary is about)
  t.steps.slice(0, -1).forEach((s, i) => {
    if (skip.includes(i)) return;
    // without the bitmap add, no node shows a bitmap
    const graph = skip.length ? { ...s.graph!, nodes: s.graph!.nodes.map(({ bitmaps: _b, ...n }) => n) } : s.graph;
    w.observe(s as Step, { ...s, graph });
  });
  return w.proc('A');
};

test('a stored bitmap directory: moving the qcow2 file onto a node of another image is avoided', () => {
  const p = viewAfter();
  assert.match(queryBreaks(reopen('n8'), p) ?? '', /^fuzz 3337831775: reopen moves the file of 'n0'/);
  // inline too: a new file node over another image
  assert.match(queryBreaks(reopen({ driver: 'file', filename: 'base.qcow2' }), p) ?? '', /3337831775/);
  // duplicates in the list (the fuzz case's form) change nothing
  const dup = reopen('n8'); (dup.arguments!.options as unknown[]).push((dup.arguments!.options as unknown[])[0]);
  assert.ok(queryBreaks(dup, p));
});

test('the same bytes (a protocol node over the same image) are not avoided: the recorded last step', () => {
  const p = viewAfter();
  assert.is(queryBreaks(t.steps[t.steps.length - 1] as Step, p), undefined);
  assert.is(queryBreaks(reopen({ driver: 'file', filename: 'mid.qcow2' }), p), undefined);
});

test('no persistent bitmap was ever added: the image has no directory, the move is left alone', () => {
  const p = viewAfter([1]);
  assert.is(queryBreaks(reopen('n8'), p), undefined);
});

const unstored = JSON.parse(readFileSync(new URL('../../oracle/transcripts/fuzz-reopen-file-unstored-persistent-bitmap.json', import.meta.url), 'utf8')) as Transcript;
const viewBefore = (tr: Transcript, upTo: number) => {
  const w = new World();
  tr.steps.slice(0, upTo).forEach((s) => w.observe(s as Step, s));
  return w.proc('A');
};

test('a persistent bitmap not yet stored (s->nb_bitmaps 0): the recorded move of the file is left alone', () => {
  const at = unstored.steps.findIndex((s) => 'execute' in s && s.execute === 'blockdev-reopen');
  const p = viewBefore(unstored, at);
  assert.is(queryBreaks(unstored.steps[at] as Step, p), undefined);
  // the same move with read-only: qcow2_reopen_bitmaps_ro stores the bitmap first, then the file moves
  const ro = { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'q', file: 'nf', 'read-only': true }] } } as CommandStep;
  assert.match(queryBreaks(ro, p) ?? '', /3337831775/);
});

test.run();
