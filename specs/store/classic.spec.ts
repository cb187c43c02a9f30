import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogLockedError } from '../../errors/index.js';
import type { EventLog } from '../../store/event-log.js';
import { openClassic } from '../../store/open.js';
import { type Backend, rec, storeConformance } from './conformance.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'bg-store-'));

storeConformance('classic', async (): Promise<Backend> => {
  const dir = fresh();
  const logs: EventLog[] = [];
  return {
    async open(opts) {
      const log = await openClassic(dir, opts);
      logs.push(log);
      return log;
    },
    async raw() {
      const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      await db.open();
      return db;
    },
    async dispose() {
      for (const l of logs) await l.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const locking = suite('store/classic: locking');
const fixture = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url));

async function expectLocked(dir: string): Promise<void> {
  try {
    const log = await openClassic(dir);
    await log.close();
    assert.unreachable('should be locked');
  } catch (e) {
    assert.instance(e, LogLockedError);
    assert.is((e as LogLockedError).code, 'BG_LOG_LOCKED');
  }
}

locking('a store held by another process -> LogLockedError; usable once it lets go', async () => {
  const dir = fresh();
  try {
    const seeded = await openClassic(dir);
    await seeded.append([rec(1)]);
    await seeded.close();

    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
      });
      await expectLocked(dir);
    } finally {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    const log = await openClassic(dir);
    assert.is(log.head, 1);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

locking('a second handle in the same process is locked out too', async () => {
  const dir = fresh();
  try {
    const log = await openClassic(dir);
    await expectLocked(dir);
    await log.close();
    await (await openClassic(dir)).close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

locking('a corrupt store is closed again after the failed open (no lock left behind)', async () => {
  const dir = fresh();
  try {
    const log = await openClassic(dir);
    await log.append([rec(1), rec(2)]);
    await log.close();
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.sublevel<string, string>('log', { keyEncoding: 'utf8', valueEncoding: 'utf8' }).del('0000000000000001');
    await db.close();
    try {
      await openClassic(dir);
      assert.unreachable('corrupt');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'BG_LOG_CORRUPT');
    }
    const again = await openClassic(dir, { verify: 'none' });
    assert.equal(await again.repair(), { dropped: 1, head: 0, headHash: '', snapshotsDropped: 0 });
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

locking.run();
