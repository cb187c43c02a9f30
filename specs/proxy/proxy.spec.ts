// The recording proxy end to end against a real qemu-storage-daemon (skipped, with a line
// saying so, where none is installed): QSD listens on a unix socket in a temp dir with qemu-img
// images, the proxy sits in front of it, a raw QMP client drives it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { parseScenario } from '../../oracle/format.js';
import { startProxy } from '../../qmp/proxy.js';
import { createImagesWithQemuImg, findExecutable, qsdAvailable } from '../../oracle/qsd.js';
import { connectUnixSocket } from '../../qmp/wire.js';
import { verifyReplay } from '../../replay/replay.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startQsd(dir: string): Promise<ChildProcess> {
  const bin = findExecutable(process.env.BLOCKGRAPH_QSD ?? 'qemu-storage-daemon')!;
  const child = spawn(bin, ['--chardev', 'socket,path=qsd.sock,server=on,wait=off,id=m', '--monitor', 'chardev=m'], { cwd: dir, stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(join(dir, 'qsd.sock')); i++) await sleep(20);
  assert.ok(existsSync(join(dir, 'qsd.sock')), 'QSD created its monitor socket');
  return child;
}

const SCENARIO = parseScenario({
  name: 'proxy', description: 'images for the proxy test', covers: ['proxy'],
  images: [
    { file: 'base.qcow2', format: 'qcow2', size: '1M' },
    { file: 'top.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' },
  ],
  steps: [],
});

if (!qsdAvailable() || !findExecutable('qemu-img')) {
  console.log('SKIP proxy end-to-end specs: qemu-storage-daemon or qemu-img is not installed');
} else {
  test('proxy: traffic passes through, graph changes are logged as QEMU answered them, a disagreement is warned and recorded', async () => {
    const t = tempDir('bg-proxy-');
    let qsd: ChildProcess | undefined;
    try {
      await createImagesWithQemuImg(SCENARIO, t.dir);
      // The model alone believes in a node 'ghost': QEMU will accept adding one, the model will not.
      const db = join(t.dir, 'db');
      let log = await openClassic(db);
      await (await Engine.open(log, { clock: FIXED_CLOCK })).execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'ghost' });
      const head0 = log.head;
      qsd = await startQsd(t.dir);
      const warnings: string[] = [];
      const proxy = await startProxy({
        listen: join(t.dir, 'proxy.sock'), connect: join(t.dir, 'qsd.sock'), log, clock: FIXED_CLOCK, imageDir: t.dir,
        warn: (m) => warnings.push(m),
      });
      const c = await connectUnixSocket(join(t.dir, 'proxy.sock'));
      assert.is(c.greeting?.QMP.version.qemu.major, 7, "QEMU's own greeting came through");
      const ok = (r: unknown) => assert.ok(!('error' in (r as object)), JSON.stringify(r));
      ok(await c.execute('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2' }, backing: null }));
      ok(await c.execute('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' }, backing: 'base' }));
      const busy = await c.execute('blockdev-del', { 'node-name': 'base' });
      assert.ok('error' in busy);
      const nodes = await c.execute('query-named-block-nodes', { flat: true });
      assert.ok('return' in nodes && Array.isArray(nodes.return) && nodes.return.length === 4, 'a query passes through with QEMU\'s answer');
      ok(await c.execute('blockdev-add', { driver: 'null-co', 'node-name': 'ghost' }));
      await proxy.idle();
      await c.close();
      await proxy.close();
      assert.equal(proxy.stats, { commands: 6, modelled: 4, agreed: 3, disagreed: 1, events: proxy.stats.events }, JSON.stringify(proxy.stats));
      assert.is(warnings.length, 1);
      assert.match(warnings[0]!, "blockdev-add: QEMU answered ok, the model error GenericError: Duplicate nodes with node-name='ghost'");
      await log.close();

      log = await openClassic(db);
      const recs = (await log.readAll()).slice(head0);
      const ops = recs.filter((r) => r.type === 'txn.begun').map((r) => {
        const d = r.data as { op: string; args: { file?: unknown; 'node-name'?: string } };
        return `${d.op} ${typeof d.args.file === 'string' ? d.args.file : d.args['node-name']}`;
      });
      // images learned from the disk (qemu-img info) right before the command naming them
      assert.equal(ops, ['x-blockgraph-image-create base.qcow2', 'blockdev-add base', 'x-blockgraph-image-create top.qcow2', 'blockdev-add top']);
      const rejected = recs.filter((r) => r.type === 'command.rejected');
      assert.is(rejected.length, 1);
      assert.is((rejected[0]!.data as { error: { desc: string } }).error.desc, (busy as { error: { desc: string } }).error.desc, "the refusal logged is QEMU's text");
      const dis = recs.filter((r) => r.type === 'proxy.disagreed');
      assert.is(dis.length, 1);
      assert.equal((dis[0]!.data as { qemu: unknown }).qemu, { return: {} });
      assert.ok((await verifyReplay(log)).ok);
      await log.close();
    } finally {
      qsd?.kill('SIGKILL');
      t.done();
    }
  });
}

test('qmp proxy: --help; --listen and --connect are required (exit 2)', () => {
  const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  const h = bg('qmp', 'proxy', '--help');
  assert.is(h.status, 0);
  assert.match(h.stdout, '--connect <sock>');
  assert.is(bg('qmp', 'proxy', '--listen', '/tmp/x.sock').status, 2);
});

test.run();
