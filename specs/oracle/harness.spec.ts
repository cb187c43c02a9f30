import { Subject } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlockgraphError } from '../../errors/index.js';
import type { QmpConnection, QmpEvent, QmpReply, XDebugBlockGraph } from '../../commands/protocol.js';
import { runScenario, setupImages, type Scenario } from '../../oracle/index.js';

// A scripted peer: one job 'j0' and one export 'e0'; commands change them, events are emitted
// before the reply (synchronously) or after it (on a timer), as a real daemon may.
class FakePeer implements QmpConnection {
  readonly events$ = new Subject<QmpEvent>();
  jobStatus: string | null = 'running';
  exportAlive = true;
  pollsUntilCancelled = 3;
  peripheral = ['late', 'never'];
  log: string[] = [];
  closed = false;
  private ev(status: string) { this.events$.next({ event: 'JOB_STATUS_CHANGE', data: { status, id: 'j0' }, timestamp: { seconds: 0, microseconds: 0 } }); }

  async execute(command: string, args: Record<string, unknown> = {}): Promise<QmpReply> {
    this.log.push(command);
    switch (command) {
      case 'query-version': return { return: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'Fake 1' } };
      case 'query-jobs':
        if (this.jobStatus === 'aborting' && --this.pollsUntilCancelled === 0) {
          this.jobStatus = 'concluded';
          this.ev('concluded');
        }
        return { return: this.jobStatus ? [{ id: 'j0', status: this.jobStatus }] : [] };
      case 'query-block-exports':
        return { return: this.exportAlive ? [{ id: 'e0' }] : [] };
      case 'x-debug-query-block-graph': {
        const g: XDebugBlockGraph = { nodes: [{ id: 1, type: 'block-driver', name: '#block12345' }], edges: [] };
        return { return: g };
      }
      case 'query-named-block-nodes':
        return { return: [{ 'node-name': '#block12345', drv: 'null-co', ro: false, file: '/work/tmp/x/null' }] };
      case 'poke':
        // one event before the reply, one after it
        this.events$.next({ event: 'BEFORE' });
        setTimeout(() => this.events$.next({ event: 'AFTER' }), 1);
        return { return: {} };
      case 'fail':
        await new Promise((r) => setTimeout(r, 10));
        return { error: { class: 'GenericError', desc: "node '#block12345' in /work/tmp/x is bad, '#block999' too" } };
      case 'job-cancel':
        this.jobStatus = 'aborting';
        this.ev('aborting');
        return { return: {} };
      case 'block-export-del':
        setTimeout(() => { this.exportAlive = false; this.events$.next({ event: 'BLOCK_EXPORT_DELETED', data: { id: String(args.id) } }); }, 5);
        return { return: {} };
      // qmp_nbd_server_remove is qmp_block_export_del by the export's id (`name`)
      case 'nbd-server-remove':
        setTimeout(() => { this.exportAlive = false; this.events$.next({ event: 'BLOCK_EXPORT_DELETED', data: { id: String(args.name) } }); }, 5);
        return { return: {} };
      case 'start-ready':
        for (const status of ['created', 'running', 'ready']) this.ev(status);
        this.events$.next({ event: 'BLOCK_JOB_READY', data: { device: 'j0', len: 0, offset: 0, speed: 0, type: 'mirror' } });
        this.jobStatus = 'ready';
        return { return: {} };
      // a USB device (unparented at once, finalized a moment later) and a controller never finalized
      case 'device_del':
        this.peripheral = this.peripheral.filter((x) => x !== args.id);
        if (args.id === 'late') setTimeout(() => this.events$.next({ event: 'DEVICE_DELETED', data: { device: 'late', path: '/machine/peripheral/late' } }), 300);
        return { return: {} };
      case 'qom-list':
        return { return: [{ name: 'type', type: 'string' }, ...this.peripheral.map((name) => ({ name, type: 'child<usb-storage>' }))] };
      case 'finish-later':
        setTimeout(() => { this.jobStatus = 'pending'; this.ev('pending'); }, 20);
        return { return: {} };
      default:
        return { error: { class: 'CommandNotFound', desc: `The command ${command} has not been found` } };
    }
  }
  async close() { this.closed = true; }
}

const scenario = (steps: Scenario['steps']): Scenario => ({ name: 's', description: 'd', covers: ['jobs'], images: [], steps });

test('attribution: events before the reply belong to the step, later ones to the next step of that proc', async () => {
  const peers: Record<string, FakePeer> = {};
  const t = await runScenario(
    scenario([{ execute: 'poke' }, { proc: 'B', execute: 'fail' }, { execute: 'fail' }]),
    async (p) => (peers[p] = new FakePeer()),
    { dir: '/work/tmp/x' },
  );
  assert.is(t.qemu, '7.2.22 (Fake 1)');
  assert.equal(Object.keys(peers).sort(), ['A', 'B']);
  assert.equal(t.steps.map((s) => s.events.map((e) => e.event)), [['BEFORE'], [], ['AFTER']]);
  assert.equal(t.steps.map((s) => s.proc), ['A', 'B', 'A']);
  const s1 = t.steps[1];
  assert.ok('result' in s1);
  if ('result' in s1) assert.equal(s1.result, { ok: false, class: 'GenericError', desc: "node '#orphan0' in . is bad, '#block9??' too" });
  assert.equal(t.steps[0].graph, { nodes: [{ name: '#orphan0', driver: 'null-co', ro: false, file: 'null' }], parents: [], edges: [] });
  assert.ok(peers.A.closed && peers.B.closed);
  assert.ok('arguments' in t.steps[0] && Object.keys(t.steps[0].arguments).length === 0);
});

test('settling: job-cancel polls query-jobs until concluded; the events up to then belong to it', async () => {
  const peer = new FakePeer();
  const t = await runScenario(scenario([{ execute: 'job-cancel', arguments: { id: 'j0' } }]), async () => peer, { qemu: 'q' });
  assert.equal(t.steps[0].events, [
    { event: 'JOB_STATUS_CHANGE', data: { status: 'aborting', id: 'j0' } },
    { event: 'JOB_STATUS_CHANGE', data: { status: 'concluded', id: 'j0' } },
  ]);
  assert.is(peer.log.filter((c) => c === 'query-jobs').length, 3);
  assert.not.ok(peer.log.includes('query-version'));
});

test('settling: block-export-del waits for the export to disappear and takes BLOCK_EXPORT_DELETED', async () => {
  const t = await runScenario(scenario([{ execute: 'block-export-del', arguments: { id: 'e0' } }]), async () => new FakePeer(), { qemu: 'q' });
  assert.equal(t.steps[0].events, [{ event: 'BLOCK_EXPORT_DELETED', data: { id: 'e0' } }]);
});

test('settling: nbd-server-remove (mode hard, a client still connected) waits for the export as block-export-del does (iotests 140)', async () => {
  const t = await runScenario(scenario([{ execute: 'nbd-server-remove', arguments: { name: 'e0', mode: 'hard' } }, { execute: 'poke' }]), async () => new FakePeer(), { qemu: 'q' });
  assert.equal(t.steps[0].events, [{ event: 'BLOCK_EXPORT_DELETED', data: { id: 'e0' } }]);
  assert.equal(t.steps[1].events.map((e) => e.event), ['BEFORE']);
});

test('settling: device_del of a device gone from /machine/peripheral waits for its late DEVICE_DELETED, and settles without one after the grace (never finalized)', async () => {
  const peer = new FakePeer();
  const t0 = Date.now();
  const t = await runScenario(scenario([{ execute: 'device_del', arguments: { id: 'late' } }, { execute: 'device_del', arguments: { id: 'never' } }]),
    async () => peer, { qemu: 'q' });
  assert.equal(t.steps[0].events, [{ event: 'DEVICE_DELETED', data: { device: 'late', path: '/machine/peripheral/late' } }]);
  assert.equal(t.steps[1].events, []);
  assert.ok(Date.now() - t0 >= 2000, 'the never-finalized one waited the grace');
});

test('wait steps poll query-jobs until the status; a timeout fails the run with a clear error', async () => {
  const t = await runScenario(
    scenario([{ execute: 'finish-later' }, { wait: { job: 'j0', status: 'pending' } }]),
    async () => new FakePeer(), { qemu: 'q' },
  );
  assert.equal(t.steps[1], {
    proc: 'A', wait: { job: 'j0', status: 'pending' },
    events: [{ event: 'JOB_STATUS_CHANGE', data: { status: 'pending', id: 'j0' } }],
    graph: { nodes: [{ name: '#orphan0', driver: 'null-co', ro: false, file: '/work/tmp/x/null' }], parents: [], edges: [] },
  });
  try {
    await runScenario(scenario([{ wait: { job: 'j0', status: 'null' } }]), async () => new FakePeer(), { qemu: 'q', waitTimeoutMs: 50 });
    assert.unreachable('no timeout');
  } catch (e) {
    assert.instance(e, BlockgraphError);
    assert.match((e as Error).message, /did not reach 'null' within 50 ms/);
  }
  const lenient = await runScenario(scenario([{ wait: { job: 'j0', status: 'null' } }]), async () => new FakePeer(),
    { qemu: 'q', waitTimeoutMs: 30, failOnWaitTimeout: false });
  assert.is(lenient.steps.length, 1);
});

test("a started job's ready transition goes to the next step even when it beat the reply", async () => {
  const t = await runScenario(scenario([{ execute: 'start-ready' }, { wait: { job: 'j0', status: 'ready' } }]), async () => new FakePeer(), { qemu: 'q' });
  assert.equal(t.steps[0].events.map((e) => e.data?.status), ['created', 'running']);
  assert.equal(t.steps[1].events, [
    { event: 'JOB_STATUS_CHANGE', data: { status: 'ready', id: 'j0' } },
    { event: 'BLOCK_JOB_READY', data: { device: 'j0', speed: 0, type: 'mirror' } },
  ]);
});

test('setupImages creates images in order and refuses paths', async () => {
  const made: string[] = [];
  const sc = scenario([]);
  sc.images = [{ file: 'base.qcow2', format: 'qcow2', size: '1M' }, { file: 'top.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' }];
  await setupImages(sc, '/d', async (im, dir) => { made.push(`${dir}/${im.file}`); });
  assert.equal(made, ['/d/base.qcow2', '/d/top.qcow2']);
  sc.images = [{ file: '../x', format: 'raw', size: '1M' }];
  try { await setupImages(sc, '/d', async () => undefined); assert.unreachable(); } catch (e) { assert.is((e as BlockgraphError).code, 'BG_BAD_INPUT'); }
});


// A job ending between x-debug-query-block-graph and query-named-block-nodes: its filter is in the
// first answer only. The harness reads the pair again until x-debug-query-block-graph is the same
// before and after, so no node is recorded without its driver.
class VanishingFilterPeer extends FakePeer {
  filterThere = true;
  override async execute(command: string, args: Record<string, unknown> = {}): Promise<QmpReply> {
    if (command === 'x-debug-query-block-graph') {
      this.log.push(command);
      const nodes: XDebugBlockGraph['nodes'] = [{ id: 1, type: 'block-driver', name: 'n0' }];
      if (this.filterThere) nodes.push({ id: 2, type: 'block-driver', name: 'cbw0' });
      return { return: { nodes, edges: [] } };
    }
    if (command === 'query-named-block-nodes') {
      this.log.push(command);
      this.filterThere = false; // the job's clean ran in the main loop before this answer
      return { return: [{ 'node-name': 'n0', drv: 'null-co', ro: false, file: 'null' }] };
    }
    return super.execute(command, args);
  }
}

test('graph: a node gone between the two graph queries is not recorded without a driver', async () => {
  const peer = new VanishingFilterPeer();
  const t = await runScenario(scenario([{ execute: 'query-version' }]), async () => peer, { qemu: 'q' });
  assert.equal(t.steps[0].graph?.nodes, [{ name: 'n0', driver: 'null-co', ro: false, file: 'null' }]);
  assert.is(peer.log.filter((c) => c === 'query-named-block-nodes').length, 2);
});

test('graph: query-named-block-nodes failing on an ejected node is a BG_QMP_ERROR naming it', async () => {
  class EjectedPeer extends FakePeer {
    override async execute(command: string, args: Record<string, unknown> = {}): Promise<QmpReply> {
      if (command === 'query-named-block-nodes') return { error: { class: 'GenericError', desc: 'Block device n0 is ejected' } };
      return super.execute(command, args);
    }
  }
  try {
    await runScenario(scenario([{ execute: 'query-version' }]), async () => new EjectedPeer(), { qemu: 'q' });
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, BlockgraphError);
    assert.match((e as Error).message, /query-named-block-nodes failed: Block device n0 is ejected/);
  }
});
test('graph: none where a job filter is detached (query-named-block-nodes would crash QEMU there: cor_getlength)', async () => {
  // a concluded block-stream with auto-dismiss false: its copy-on-read filter has no child, the job holds it
  class DetachedFilterPeer extends FakePeer {
    override async execute(command: string, args: Record<string, unknown> = {}): Promise<QmpReply> {
      this.log.push(command);
      if (command === 'x-debug-query-block-graph') {
        return { return: { nodes: [{ id: 1, type: 'block-job', name: 'j0' }, { id: 2, type: 'block-driver', name: '#block123' }],
          edges: [{ parent: 1, child: 2, name: 'main node', perm: [], 'shared-perm': ['write', 'write-unchanged', 'consistent-read', 'resize'] }] } };
      }
      if (command === 'query-named-block-nodes') throw new Error('QEMU died');
      return super.execute(command, args);
    }
  }
  const peer = new DetachedFilterPeer();
  const t = await runScenario(scenario([{ execute: 'query-version' }]), async () => peer, { qemu: 'q' });
  assert.is(t.steps[0].graph, undefined);
  assert.not.ok('graph' in t.steps[0]);
  assert.not.ok(peer.log.includes('query-named-block-nodes'));
});
test.run();
