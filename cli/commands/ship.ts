// `blockgraph ship --db DIR --to nats://HOST:PORT/FLEET/HOST`: copy a host's LevelDB log to the
// fleet stream, resuming at the fleet copy's head (no gap, no duplicate after a crash of either
// side). `--connect PATH` follows a live store through the process that holds it (its
// `blockgraph qmp --log-socket PATH`) until that ends or this process is told to stop.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Subject, takeUntil } from 'rxjs';
import { BlockgraphError } from '../../errors/index.js';
import { openClassic } from '../../store/index.js';
import { isNatsUrl, openJetStream } from '../../store/jetstream/index.js';
import { shipLive, shipLog, type ShipResult } from '../../store/jetstream/ship.js';
import { DEFAULT_DB, printJson } from '../context.js';
import { connectLogSocket } from '../log-socket.js';
import { ignoreBlockedSignals, onStopSignal } from '../stop-signals.js';

export function registerShip(program: Command): void {
  program.command('ship')
    .description("copy a host's log to the fleet stream (NATS JetStream), resuming where the fleet copy ends; --connect follows a live store")
    .requiredOption('--to <url>', 'the host in the fleet: nats://HOST:PORT[,HOST:PORT]/FLEET/HOST')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--connect <path>', 'follow the live log served by `blockgraph qmp --log-socket PATH` instead of opening --db')
    .option('--batch <n>', 'records per append', '500')
    .option('--progress', "print the fleet copy's head to stderr after each acknowledged batch")
    .option('--json', 'JSON summary')
    .action(async (o) => {
      if (!isNatsUrl(o.to)) throw new BlockgraphError('BG_BAD_INPUT', `--to: not a nats:// URL: ${o.to}`);
      const batch = Number(o.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new BlockgraphError('BG_BAD_INPUT', `--batch: not a count from 1 to 100000: ${o.batch}`);
      const onBatch = o.progress ? (head: number) => process.stderr.write(`shipped ${head}\n`) : undefined;
      const opts = { batch, ...(onBatch ? { onBatch } : {}) };
      // The shipper never reads the fleet copy back: keep only its head in memory.
      const remote = await openJetStream(o.to, { verify: 'none', retain: 'head' });
      let r: ShipResult;
      try {
        if (o.connect) {
          const stop$ = new Subject<void>();
          const stop = () => stop$.next();
          const offSignals = onStopSignal(stop);
          const offBlocked = ignoreBlockedSignals();
          try {
            r = await shipLive((from) => connectLogSocket(o.connect, from).pipe(takeUntil(stop$)), remote, opts);
          } finally {
            offSignals();
            offBlocked();
          }
        } else {
          if (!existsSync(o.db)) throw new BlockgraphError('BG_NOT_FOUND', `no store at ${o.db}`);
          const local = await openClassic(o.db, { createIfMissing: false }).catch((e: unknown) => {
            if (e instanceof BlockgraphError && e.code === 'BG_LOG_LOCKED') {
              throw new BlockgraphError('BG_LOG_LOCKED', `${e.message}: ship it through the process that holds it (blockgraph qmp --log-socket PATH, then blockgraph ship --connect PATH)`, e.info);
            }
            throw e;
          });
          try {
            r = await shipLog(local, remote, opts);
          } finally {
            await local.close();
          }
        }
      } finally {
        await remote.close();
      }
      if (o.json) printJson(r);
      else console.log(`shipped ${r.shipped} records (${r.resumedAt + 1}..${r.head}); the fleet copy's head is ${r.head}`);
    });
}
