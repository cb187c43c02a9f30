// `blockgraph demo`: the tour. A small chain, a refused command, a transaction killed by
// SIGKILL in a child process mid-way, recovery, the log and the graph. Always on a new store.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { EventLog } from '../../store/index.js';
import { isNatsUrl } from '../../store/jetstream/url.js';
import { wallClock } from '../context.js';
import { logTable } from './log.js';

/** The demo writes its own history: into a new or empty directory only, never into a store someone uses. */
export function checkDemoDir(db: string): void {
  let entries: string[];
  try { entries = readdirSync(db); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new BlockgraphError('BG_BAD_INPUT', `--db ${db}: ${code === 'ENOTDIR' ? 'not a directory' : code ?? (e as Error).message}`);
  }
  if (entries.length) {
    throw new BlockgraphError('BG_BAD_INPUT', `--db ${db} is not empty${entries.includes('CURRENT') ? ' (it holds a store)' : ''}: the demo writes a new store; give a new or empty directory, or leave out --db`);
  }
}

/** A LevelDB directory, or a host's log in the fleet stream (nats loaded only then: it is heavy). */
async function openDemoStore(db: string): Promise<EventLog> {
  if (!isNatsUrl(db)) return (await import('../../store/index.js')).openClassic(db);
  return (await import('../../store/jetstream/location.js')).openStoreAt(db);
}

const SETUP: [string, Record<string, unknown>][] = [
  ['x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '64M' }],
  ['x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '64M', backing: 'base.qcow2', 'backing-format': 'qcow2' }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } }],
  ['nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } }],
  ['block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true }],
  // refused: top's implicit read-only backing holds base.qcow2's write lock
  ['blockdev-add', { driver: 'qcow2', 'node-name': 'other', file: { driver: 'file', filename: 'base.qcow2' }, backing: null }],
];
/** The multi-step transaction the child process is killed in the middle of. */
const CRASHED: [string, Record<string, unknown>] = [
  'blockdev-add', { driver: 'qcow2', 'node-name': 'other', 'read-only': true, file: { driver: 'file', filename: 'base.qcow2' }, backing: null },
];

/** Child side: run CRASHED and SIGKILL ourselves once its steps are in the log, before the decision. */
export async function crashChild(db: string): Promise<void> {
  const { Engine } = await import('../../engine/engine.js');
  const log = await openDemoStore(db);
  const e = await Engine.open(log, {
    clock: wallClock,
    afterAppend: (phase) => { if (phase === 'steps') process.kill(process.pid, 'SIGKILL'); },
  });
  await e.execute('A', CRASHED[0], CRASHED[1]);
}

export function registerDemo(program: Command): void {
  program.command('demo')
    .description('build a small chain, run transactions, crash one mid-way (kill -9), recover, print the log and the graph')
    .option('--db <dir>', 'a new or empty directory for the store, or a fleet host with no records (nats://HOST:PORT/FLEET/HOST) (default: a new temp dir)')
    .addHelpText('after', `
Examples:
  $ blockgraph demo
  $ blockgraph demo --db /tmp/bg-demo && blockgraph audit --db /tmp/bg-demo`)
    .action(async (o) => {
      if (o.db !== undefined && !isNatsUrl(o.db)) checkDemoDir(o.db);
      const [{ Engine }, { renderText }] = await Promise.all([import('../../engine/engine.js'), import('../render-text.js')]);
      const db: string = o.db ?? mkdtempSync(join(tmpdir(), 'blockgraph-demo-'));
      console.log(`store: ${db}`);
      let log = await openDemoStore(db);
      if (isNatsUrl(db) && log.head !== 0) {
        await log.close();
        throw new BlockgraphError('BG_BAD_INPUT', `--db ${db} holds ${log.head} records: the demo writes a new store; give a host with none`);
      }
      let e = await Engine.open(log, { clock: wallClock });
      for (const [cmd, args] of SETUP) {
        const r = await e.execute('A', cmd, args);
        console.log(`${cmd.padEnd(26)} ${'error' in r.reply ? `error: ${r.reply.error.desc}` : 'ok'}`);
      }
      // A refused command: logged for audit, state untouched.
      const bad = await e.execute('A', 'blockdev-del', { 'node-name': 'top' });
      console.log(`${'blockdev-del top'.padEnd(26)} ${'error' in bad.reply ? `refused: ${bad.reply.error.desc}` : 'ok'}`);
      const before = log.head;
      await log.close();

      console.log(`\n${CRASHED[0]} in a child process, killed with SIGKILL after its steps were logged…`);
      const signal = await new Promise<string | null>((resolve) => {
        const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '_crash-child', '--db', db], { stdio: 'inherit' });
        child.on('exit', (_code, sig) => resolve(sig));
      });
      console.log(`child ended by ${signal ?? 'exit'}`);

      log = await openDemoStore(db);
      e = await Engine.open(log, { clock: wallClock });
      const rec = e.lastRecovery!;
      console.log(`recovery: rolled back ${rec.rolledBack.join(', ') || 'nothing'}; rolled forward ${rec.rolledForward.join(', ') || 'nothing'}`);
      const again = await e.execute('A', CRASHED[0], CRASHED[1]);
      console.log(`${CRASHED[0]} again: ${'error' in again.reply ? again.reply.error.desc : 'ok'}`);
      console.log(`\nlog (${log.head} records, ${log.head - before} since the crash):`);
      console.log(logTable(await log.readAll()));
      console.log(`\ngraph:\n${renderText(e.state, { legend: true })}`);
      const v = await log.verify();
      console.log(`\nhash chain: ${v.ok ? 'verified' : `BROKEN at ${v.firstBad}`}`);
      await log.close();
    });
  program.command('_crash-child', { hidden: true })
    .requiredOption('--db <dir>')
    .action(async (o) => { await crashChild(o.db); });
}
