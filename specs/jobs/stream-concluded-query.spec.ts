// A stream left concluded (auto-dismiss off) still holds its copy-on-read filter, which
// stream_clean's bdrv_cor_filter_drop left without children: query-named-block-nodes then
// dereferences NULL in bdrv_block_device_info (bdrv_refresh_filename of the implicit filter, or
// cor_getlength's bs->file->bs of a named one) and QSD 7.2.22 and 10.0.2 both die (SIGSEGV; probed
// live by stop 36, the 030-h-stream-arg-errors port as first written). The model refuses that
// query on both versions; once the job is dismissed (its BlockBackend gone) the query answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario, type Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';

const images = [{ file: 'base.img', format: 'qcow2', size: '1M' }, { file: 'top.img', format: 'qcow2', size: '1M', backing: 'base.img', 'backing-format': 'qcow2' }];
const add: Step = { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.img' } } };
const q: Step = { execute: 'query-named-block-nodes' };
const scenario = (stream: Record<string, unknown>): Scenario => ({
  name: 'stream-concluded-query', description: 'x', covers: ['jobs'], images,
  steps: [add, { execute: 'block-stream', arguments: { 'job-id': 's', device: 'top', 'auto-dismiss': false, ...stream } },
    { wait: { job: 's', status: 'concluded' } }, q, { execute: 'query-block' }, { execute: 'job-dismiss', arguments: { id: 's' } }, q],
});

for (const version of ['7.2', '10.0'] as const) {
  for (const [what, stream, text] of [
    ['implicit', {}, /bdrv_refresh_filename of an implicit node with no child/],
    ['named', { 'filter-node-name': 'sf' }, version === '7.2' ? /^Node 'sf' \(copy-on-read\) has no child left.*bdrv_getlength of copy-on-read without bs->file/
      : /^Node 'sf' \(copy-on-read\) has no child left.*bdrv_get_allocated_file_size of the filter's missing child/],
  ] as const) {
    test(`${version}: query-named-block-nodes with a concluded stream's ${what} filter is refused; after job-dismiss it answers`, async () => {
      const t = await runOnModel(scenario(stream), undefined, { qemuVersion: version });
      const [query, block, dismiss, again] = t.steps.slice(3).map((s) => (isWaitStep(s) ? null : s.result));
      assert.ok(query && !query.ok);
      if (query && !query.ok) assert.match(query.desc, text);
      assert.ok(block?.ok, 'query-block lists monitor-owned BlockBackends only: no crash');
      assert.ok(dismiss?.ok);
      assert.ok(again?.ok);
    });
  }
}

test.run();
