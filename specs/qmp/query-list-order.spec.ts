// The order of the lists QEMU's queries answer, which no transcript records (they keep the graph,
// not the reply): query-jobs and query-block-jobs walk job_next_locked from the head of the jobs
// list, where job_create inserts each new job (QLIST_INSERT_HEAD); query-block-exports walks
// block_exports, where blk_exp_add inserts at the head: both newest first. A node's dirty bitmaps
// (bdrv_create_dirty_bitmap: QLIST_INSERT_HEAD) and query-named-block-nodes (bdrv_named_nodes_list
// prepends) are newest first too. The model's answers are compared with the real
// qemu-storage-daemon 7.2's where it is installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend, ModelConnection } from '../../commands/model-host.js';
import { Qsd, qsdAvailable } from '../../oracle/schema/qsd.js';

type Cmd = [string, Record<string, unknown>];
const SETUP: Cmd[] = [
  ...['a', 'b', 'c', 'd', 'e', 'f'].map((n): Cmd => ['blockdev-add', { driver: 'null-co', 'node-name': n, size: 1 << 30 }]),
  ['blockdev-backup', { 'job-id': 'first', device: 'a', target: 'b', sync: 'full', speed: 1 }],
  ['blockdev-backup', { 'job-id': 'second', device: 'c', target: 'd', sync: 'full', speed: 1 }],
  ['blockdev-backup', { 'job-id': 'third', device: 'e', target: 'f', sync: 'full', speed: 1 }],
  ['nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } }],
  ...([['eb', 'a'], ['ea', 'c'], ['ec', 'e']] as const).map(([id, n]): Cmd => ['block-export-add', { type: 'nbd', id, 'node-name': n }]),
  ...['bb', 'ba', 'bc'].map((name): Cmd => ['block-dirty-bitmap-add', { node: 'a', name }]),
];
interface Lists { jobs: string[]; blockJobs: string[]; exports: string[]; bitmaps: string[]; nodes: string[] }
const names = (ret: unknown, key: string) => (ret as Record<string, string>[]).map((j) => j[key]!);
function lists(r: Record<string, unknown>): Lists {
  const nodes = r['query-named-block-nodes'] as { 'node-name': string; 'dirty-bitmaps'?: { name: string }[] }[];
  return {
    jobs: names(r['query-jobs'], 'id'), blockJobs: names(r['query-block-jobs'], 'device'),
    exports: names(r['query-block-exports'], 'id'),
    // the backups' own copy bitmaps are anonymous, their filters' names generated (#blockNNN)
    bitmaps: (nodes.find((n) => n['node-name'] === 'a')?.['dirty-bitmaps'] ?? []).map((b) => b.name ?? '(anonymous)'),
    nodes: nodes.map((n) => n['node-name']).filter((n) => !n.startsWith('#')),
  };
}
const QUERIES = ['query-jobs', 'query-block-jobs', 'query-block-exports', 'query-named-block-nodes'];

async function onModel(): Promise<Lists> {
  const c = new ModelConnection(new MemoryBackend(), 'A');
  for (const [cmd, args] of SETUP) assert.ok('return' in (await c.execute(cmd, args)), cmd);
  const r: Record<string, unknown> = {};
  for (const q of QUERIES) r[q] = ((await c.execute(q)) as { return: unknown }).return;
  return lists(r);
}

test('the model lists jobs, exports and bitmaps newest first', async () => {
  const m = await onModel();
  assert.equal(m.jobs, ['third', 'second', 'first']);
  assert.equal(m.blockJobs, ['third', 'second', 'first']);
  assert.equal(m.exports, ['ec', 'ea', 'eb']);
  assert.equal(m.bitmaps, ['bc', 'ba', 'bb', '(anonymous)']);
});

test('qemu-storage-daemon 7.2 lists them as the model does', async () => {
  if (!qsdAvailable()) return;
  const q = await Qsd.start();
  try {
    for (const [cmd, args] of SETUP) assert.ok((await q.exec(cmd, args)).ok, cmd);
    const r: Record<string, unknown> = {};
    for (const name of QUERIES) {
      const a = await q.exec(name);
      assert.ok(a.ok, name);
      r[name] = a.ok ? a.ret : [];
    }
    assert.equal(await onModel(), lists(r));
  } finally {
    await q.stop();
  }
});

test.run();
