// `blockgraph qmp proxy`: a recording proxy in front of a real qemu-storage-daemon.
import type { Command } from 'commander';
import { startProxy } from '../../qmp/proxy.js';
import { checkUnixPath } from '../../qmp/server.js';
import { openClassic } from '../../store/index.js';
import { DEFAULT_DB, wallClock } from '../context.js';
import { procArg } from '../args.js';
import { ignoreBlockedSignals, onStopSignal } from '../stop-signals.js';

export function registerQmpProxy(qmp: Command): void {
  qmp.command('proxy')
    .description("pass a client's QMP traffic to a real qemu-storage-daemon and log every graph-changing command with QEMU's answer, the model running alongside (disagreements: a warning on stderr and a proxy.disagreed record)")
    .requiredOption('--listen <sock>', 'unix socket to listen on')
    .requiredOption('--connect <sock>', "the daemon's QMP monitor socket (--chardev socket,path=…,server=on --monitor chardev=…)")
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'which QEMU process of the store the daemon is', procArg('--proc'), 'A')
    .option('--image-dir <dir>', "the daemon's working directory (images named by commands are learned there with qemu-img info)", process.cwd())
    .action(async (o) => {
      // before the store is opened (or made): a refusal leaves nothing behind
      checkUnixPath(o.listen);
      checkUnixPath(o.connect);
      const log = await openClassic(o.db);
      const proxy = await startProxy({ listen: o.listen, connect: o.connect, log, proc: o.proc, clock: wallClock, imageDir: o.imageDir });
      process.stderr.write(`blockgraph: QMP proxy on ${o.listen} -> ${o.connect} (store ${o.db})\n`);
      // SIGINT, SIGTERM or SIGHUP (cli/stop-signals.ts): the proxy closes and reports
      let offSignals = () => {};
      const offBlocked = ignoreBlockedSignals();
      await new Promise<void>((resolve) => { offSignals = onStopSignal(() => resolve()); });
      offSignals();
      offBlocked();
      await proxy.close();
      const s = proxy.stats;
      process.stderr.write(`blockgraph: ${s.commands} commands, ${s.modelled} graph-changing: ${s.agreed} agreed, ${s.disagreed} disagreed; ${s.events} events\n`);
      await log.close();
    });
}
