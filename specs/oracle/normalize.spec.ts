// Expected outputs are written by hand from shared/oracle/README.md's rules, not produced by the
// code under test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NamedBlockNode, XDebugBlockGraph } from '../../commands/protocol.js';
import {
  EventNormalizer, findDetachedJobFilter, normalizeEvents, normalizeGraph, normalizeString, sortPerms, stripDir,
} from '../../oracle/index.js';

const ALL = ['consistent-read', 'write', 'write-unchanged', 'resize'];
type XNode = XDebugBlockGraph['nodes'][number];
type XEdge = XDebugBlockGraph['edges'][number];
const bd = (id: number, name: string): XNode => ({ id, type: 'block-driver', name });
const bb = (id: number): XNode => ({ id, type: 'block-backend', name: '' });
const job = (id: number, name: string): XNode => ({ id, type: 'block-job', name });
const edge = (parent: number, child: number, name: string, perm: string[] = [], shared: string[] = ALL): XEdge =>
  ({ parent, child, name, perm, 'shared-perm': shared });
const nn = (name: string, drv: string, ro: boolean, file: string): NamedBlockNode => ({ 'node-name': name, drv, ro, file });

test('implicit chain: top.file, top.backing, top.backing.file; perms in bit order; dir stripped', () => {
  const x: XDebugBlockGraph = {
    nodes: [bd(1, '#block578'), bd(2, 'top'), bd(3, '#block356'), bd(4, '#block134')],
    edges: [
      edge(2, 4, 'file', ['resize', 'write', 'consistent-read'], ['write-unchanged', 'consistent-read']),
      edge(2, 3, 'backing', [], ['resize', 'write-unchanged', 'write', 'consistent-read']),
      edge(3, 1, 'file', ['consistent-read'], ['consistent-read', 'write-unchanged']),
    ],
  };
  const named = [
    nn('top', 'qcow2', false, '/tmp/d/top.qcow2'), nn('#block134', 'file', false, '/tmp/d/top.qcow2'),
    nn('#block356', 'qcow2', true, 'base.qcow2'), nn('#block578', 'file', true, 'base.qcow2'),
  ];
  const { graph, rename } = normalizeGraph(x, named, { dir: '/tmp/d' });
  assert.equal(graph, {
    nodes: [
      { name: 'top', driver: 'qcow2', ro: false, file: 'top.qcow2' },
      { name: 'top.backing', driver: 'qcow2', ro: true, file: 'base.qcow2' },
      { name: 'top.backing.file', driver: 'file', ro: true, file: 'base.qcow2' },
      { name: 'top.file', driver: 'file', ro: false, file: 'top.qcow2' },
    ],
    parents: [],
    edges: [
      { parent: 'top', name: 'backing', child: 'top.backing', perm: [], shared: ALL },
      { parent: 'top', name: 'file', child: 'top.file', perm: ['consistent-read', 'write', 'resize'], shared: ['consistent-read', 'write-unchanged'] },
      { parent: 'top.backing', name: 'file', child: 'top.backing.file', perm: ['consistent-read'], shared: ['consistent-read', 'write-unchanged'] },
    ],
  });
  assert.equal([...rename.entries()].sort(), [['#block134', 'top.file'], ['#block356', 'top.backing'], ['#block578', 'top.backing.file']]);
});

test("stream's implicit filter on a root node is named after its job edge: s0.main node, bb:s0.main node", () => {
  const x: XDebugBlockGraph = {
    nodes: [bb(9), job(8, 's0'), bd(7, '#block901'), bd(6, 'top')],
    edges: [
      edge(9, 7, 'root', ['consistent-read'], ['consistent-read', 'write', 'write-unchanged']),
      edge(8, 7, 'main node', [], ALL),
      edge(8, 6, 'active node', [], ['consistent-read', 'write', 'write-unchanged']),
      edge(7, 6, 'file', ['consistent-read', 'write-unchanged'], ['consistent-read', 'write', 'write-unchanged']),
    ],
  };
  const named = [nn('#block901', 'copy-on-read', false, 'json:{"driver":"copy-on-read"}'), nn('top', 'qcow2', false, 'top.qcow2')];
  const { graph } = normalizeGraph(x, named);
  assert.equal(graph.nodes, [
    { name: 's0.main node', driver: 'copy-on-read', ro: false },
    { name: 'top', driver: 'qcow2', ro: false, file: 'top.qcow2' },
  ]);
  assert.equal(graph.parents, [{ name: 'bb:s0.main node', type: 'block-backend' }, { name: 's0', type: 'block-job' }]);
  assert.equal(graph.edges.map((e) => `${e.parent}|${e.name}|${e.child}`), [
    'bb:s0.main node|root|s0.main node', 's0|active node|top', 's0|main node|s0.main node', 's0.main node|file|top',
  ]);
});

test('two BlockBackends on one node: ordered by root edge perms, then query order; bb:- without root', () => {
  const ro = ['consistent-read'];
  const rw = ['write', 'consistent-read'];
  const sh = ['consistent-read', 'write', 'write-unchanged'];
  const x: XDebugBlockGraph = {
    nodes: [bd(1, 'r'), bb(2), bb(3), bb(4), bb(5)],
    edges: [edge(2, 1, 'root', ro, sh), edge(3, 1, 'root', rw, sh), edge(4, 1, 'root', ro, sh)],
  };
  const { graph } = normalizeGraph(x, [nn('r', 'raw', false, 'r.raw')]);
  assert.equal(graph.parents.map((p) => p.name), ['bb:-', 'bb:r', 'bb:r#2', 'bb:r#3']);
  assert.equal(graph.edges.map((e) => [e.parent, e.perm]), [
    ['bb:r', ['consistent-read', 'write']], ['bb:r#2', ['consistent-read']], ['bb:r#3', ['consistent-read']],
  ]);
});

test('smallest candidate wins; block-driver parents beat job parents; file omitted when empty', () => {
  const x: XDebugBlockGraph = {
    nodes: [job(1, 'a0'), bd(2, 'b'), bd(3, 'a'), bd(4, '#block999')],
    edges: [edge(2, 4, 'file'), edge(3, 4, 'image'), edge(1, 4, 'base')],
  };
  const { graph } = normalizeGraph(x, [nn('a', 'blkdebug', false, ''), nn('b', 'raw', false, ''), nn('#block999', 'null-co', false, 'null-co://')]);
  assert.equal(graph.nodes, [
    { name: 'a', driver: 'blkdebug', ro: false },
    { name: 'a.image', driver: 'null-co', ro: false, file: 'null-co://' },
    { name: 'b', driver: 'raw', ro: false },
  ]);
});

test('taken names get #2: a job id equal to a canonical name, and two job edges with one name', () => {
  const x: XDebugBlockGraph = {
    nodes: [job(1, 'top.file'), bd(2, 'top'), bd(3, '#block100'), job(4, 'x'), bd(5, '#block200'), bd(6, '#block300')],
    edges: [edge(2, 3, 'file'), edge(1, 2, 'main node'), edge(4, 5, 'intermediate node'), edge(4, 6, 'intermediate node')],
  };
  const { rename } = normalizeGraph(x, []);
  assert.is(rename.get('#block100'), 'top.file#2');
  assert.is(rename.get('#block200'), 'x.intermediate node');
  assert.is(rename.get('#block300'), 'x.intermediate node#2');
});

test('auto nodes without parents are #orphan<K> in query order; names are nested through auto parents', () => {
  const x: XDebugBlockGraph = {
    nodes: [bd(1, '#block510'), bd(2, '#block520'), bd(3, '#block530')],
    edges: [edge(2, 3, 'file')],
  };
  const { rename } = normalizeGraph(x, []);
  assert.is(rename.get('#block510'), '#orphan0');
  assert.is(rename.get('#block520'), '#orphan1');
  assert.is(rename.get('#block530'), '#orphan1.file');
});

test('normalizeString: renames, unknown auto names keep their counter, temp dir stripped', () => {
  const rename = new Map([['#block134', 'top.file']]);
  assert.is(normalizeString("Node '#block134' is busy", rename), "Node 'top.file' is busy");
  assert.is(normalizeString("Could not open '#block4217'", rename), "Could not open '#block42??'");
  assert.is(normalizeString("Could not open '/tmp/d/x.qcow2': in /tmp/d", rename, '/tmp/d'), "Could not open 'x.qcow2': in .");
  assert.is(stripDir('/tmp/d/', '/tmp/d/'), '');
  assert.equal(sortPerms(['resize', 'consistent-read', 'graph-mod', 'write']), ['consistent-read', 'write', 'resize', 'graph-mod']);
});

test('events: no timestamps, no offset/len on job end events, key order kept, names normalized', () => {
  const ts = { seconds: 1, microseconds: 2 };
  const out = normalizeEvents([
    { event: 'BLOCK_JOB_COMPLETED', data: { device: 'c0', len: 1048576, offset: 1048576, speed: 0, type: 'commit' }, timestamp: ts },
    { event: 'BLOCK_JOB_READY', data: { device: 'm0', len: 5, offset: 5, speed: 0, type: 'mirror' }, timestamp: ts },
    { event: 'BLOCK_JOB_ERROR', data: { device: 'm0', operation: 'write', action: 'report' }, timestamp: ts },
    { event: 'BLOCK_EXPORT_DELETED', data: { id: '#block77712' }, timestamp: ts },
    { event: 'SOME_EVENT', timestamp: ts },
  ], new Map([['#block77712', 'top.file']]));
  assert.equal(out, [
    { event: 'BLOCK_JOB_COMPLETED', data: { device: 'c0', speed: 0, type: 'commit' } },
    { event: 'BLOCK_JOB_READY', data: { device: 'm0', speed: 0, type: 'mirror' } },
    { event: 'BLOCK_JOB_ERROR', data: { device: 'm0', operation: 'write', action: 'report' } },
    { event: 'BLOCK_EXPORT_DELETED', data: { id: 'top.file' } },
    { event: 'SOME_EVENT' },
  ]);
  assert.is(Object.keys(out[0].data!).join(','), 'device,speed,type');
});

const jsc = (id: string, status: string) => ({ event: 'JOB_STATUS_CHANGE', data: { status, id } });

test('drain flicker: unrequested paused/standby and the way back are dropped, across steps', () => {
  const n = new EventNormalizer();
  const none = new Map<string, string>();
  assert.equal(n.normalize([jsc('s0', 'running'), jsc('s0', 'paused')], none), [jsc('s0', 'running')]);
  // the way back arrives in the next step's batch
  assert.equal(n.normalize([jsc('s0', 'running'), jsc('m0', 'standby'), jsc('m0', 'ready'), jsc('m0', 'waiting')], none), [jsc('m0', 'waiting')]);
  // a requested pause stays, and so does its resume
  n.noteCommand('job-pause', { id: 's0' }, true);
  assert.equal(n.normalize([jsc('s0', 'paused')], none), [jsc('s0', 'paused')]);
  n.noteCommand('block-job-resume', { device: 's0' }, true);
  assert.equal(n.normalize([jsc('s0', 'running')], none), [jsc('s0', 'running')]);
  // a failed pause asks for nothing
  n.noteCommand('job-pause', { id: 'm0' }, false);
  assert.equal(n.normalize([jsc('m0', 'standby'), jsc('m0', 'ready')], none), []);
  // after an unrequested pause, a status other than running/ready is kept
  assert.equal(n.normalize([jsc('c0', 'paused'), jsc('c0', 'aborting')], none), [jsc('c0', 'aborting')]);
});

test('drain flicker: a job created under the id of a job paused and cancelled is not the paused one (combo-c6-job-backup-every-state #32)', () => {
  const n = new EventNormalizer();
  const none = new Map<string, string>();
  n.noteCommand('job-pause', { id: 'bk' }, true);
  assert.equal(n.normalize([jsc('bk', 'paused')], none), [jsc('bk', 'paused')]);
  n.noteCommand('job-cancel', { id: 'bk' }, true);
  assert.equal(n.normalize([jsc('bk', 'running'), jsc('bk', 'aborting'), jsc('bk', 'null')], none), [jsc('bk', 'running'), jsc('bk', 'aborting'), jsc('bk', 'null')]);
  // the next blockdev-backup's start in blockdev_backup_prepare's drained section
  assert.equal(n.normalize([jsc('bk', 'created'), jsc('bk', 'running'), jsc('bk', 'paused'), jsc('bk', 'running')], none), [jsc('bk', 'created'), jsc('bk', 'running')]);
});

test('a childless stream filter held only by its job is detected (QSD 7.2 would crash)', () => {
  const x: XDebugBlockGraph = { nodes: [job(1, 's0'), bd(2, '#block12345'), bd(3, 'top')], edges: [edge(1, 2, 'main node')] };
  assert.is(findDetachedJobFilter(x), '#block12345');
  assert.is(findDetachedJobFilter({ ...x, edges: [...x.edges, edge(2, 3, 'file')] }), undefined);
});

test.run();
