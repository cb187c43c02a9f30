import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { Engine } from '../../engine/engine.js';
import { MemoryBackend, type ModelBackend } from '../../commands/model-host.js';
import { compareTranscripts, type TranscriptComparison } from '../../oracle/compare.js';
import { parseScenario, parseTranscript, printTranscript } from '../../oracle/format.js';
import { runScenario } from '../../oracle/harness.js';
import { imageRoot, onHostOf, recordingRoot } from '../../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../../oracle/temp-dirs.js';
import { cleanupOnSignals, sweepAtStart } from '../owned-cleanup.js';
import { createImagesWithQemuImg, spawnQsd } from '../../oracle/qsd.js';
import { spawnVm } from '../../oracle/qemu-vm.js';
import { runOnModel, transcriptVersion } from '../../oracle/run-model.js';
import { requireQemuBinaries, requireQemuVm } from '../../oracle/qemu-bins.js';
import { type QemuVersion, versionIn } from '../../graph/version.js';
import { intArg, outArg, procArg, qemuArg } from '../args.js';
import { checkUnixPath, listenQmp, serveQmp } from '../../qmp/server.js';
import { connectQmp } from '../../qmp/connect.js';
import { openClassic, openMemory } from '../../store/index.js';
import { DEFAULT_DB, EXIT, printJson, wallClock } from '../context.js';
import { registerQmpProxy } from './qmp-proxy.js';
import { ServedStore } from '../live-store.js';
import { LiveHost } from '../live-host.js';
import { FEED_STALL_MS, serveLogSocket } from '../log-socket.js';
import { DEFAULT_INPUT_TIMEOUT_S, MAX_TRANSCRIPT_BYTES, readInputFile } from '../input-file.js';
import { writeOutputFile } from '../out-file.js';
import { ignoreBlockedSignals, onStopSignal } from '../stop-signals.js';
import { recordMachineFacts } from '../../oracle/machine-facts.js';

function badInput(msg: string): never {
  throw new BlockgraphError('BG_BAD_INPUT', msg);
}

/**
 * A file named on the command line: one that cannot be read is bad input (exit 2), never a
 * store I/O error; a pipe is read once, as a stream (cli/input-file.ts), so nothing reads it twice.
 */
function readInput(file: string, timeoutS?: number): Promise<string> {
  return readInputFile(file, { maxBytes: MAX_TRANSCRIPT_BYTES, timeoutS, what: 'transcript or scenario' });
}

const TIMEOUT_HELP = `seconds to wait for a writer when a file is a pipe nobody writes to yet (default ${DEFAULT_INPUT_TIMEOUT_S}; a pipe with a writer is read to its end)`;

/**
 * `qmp --qemu V`: a process not yet started declares V (x-blockgraph-process-start, logged);
 * one already started must be V (7.2 when it never declared one).
 */
async function declareProcessVersion(engine: ModelBackend, proc: string, v: QemuVersion): Promise<void> {
  if (engine.state[proc] && versionIn(engine.state, proc) === v) return;
  if (engine.state[proc] && Object.values(engine.state[proc]!).some((c) => Object.keys(c ?? {}).length)) {
    // refused here, before anything is logged: the store keeps its process as it is
    throw new BlockgraphError('BG_BAD_INPUT', `--qemu ${v}: process '${proc}' of this store has already started on QEMU ${versionIn(engine.state, proc)}`);
  }
  const r = await engine.execute(proc, 'x-blockgraph-process-start', { qemu: v });
  if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `--qemu ${v}: ${r.reply.error.desc}`);
}

/** The version that recorded `text` when it is a transcript (its `qemu` member), else 7.2. */
function recordedVersion(text: string): QemuVersion {
  try {
    const j = JSON.parse(text) as { qemu?: unknown };
    return transcriptVersion({ qemu: typeof j.qemu === 'string' ? j.qemu : undefined });
  } catch { return '7.2'; }
}

export function comparisonText(c: TranscriptComparison): string {
  const lines = c.steps.filter((s) => !s.outcome || !s.errorText || !s.graph).map((s) => `  step ${s.index} ${s.what}: ${s.diff.join('; ')}`);
  return `${c.name}: outcome ${c.totals.outcome}/${c.totals.steps}, error text ${c.totals.errorText}/${c.totals.steps}, graph ${c.totals.graph}/${c.totals.steps}${lines.length ? '\n' + lines.join('\n') : ''}`;
}

export function registerQmp(program: Command): void {
  const qmp = program.command('qmp')
    .description('QMP on stdio (default), a unix socket, or connecting out to a listening client, backed by a durable log; and the oracle tools (run, record, proxy, compare)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--socket <path>', 'listen on a unix socket instead of stdio')
    .option('--connect <path>', "connect to a QMP client listening on this unix socket instead of stdio (as QSD's --chardev socket,path=PATH,server=off; qemu.qmp's QMPClient.accept()); without --reconnect, a failed connect exits 2 and a connection that ends is not made again")
    .option('--reconnect <seconds>', "with --connect: try the connect every SECONDS until it succeeds, and again SECONDS after the connection ends (QEMU's reconnect=SECONDS; 0: never)", intArg('--reconnect', 0, 2147483))
    .option('--proc <name>', 'which QEMU process of the store this session is', procArg('--proc'), 'A')
    .option('--log-socket <path>', 'also serve the log live on this unix socket (for `blockgraph tail --connect PATH`)')
    .option('--feed-stall-ms <ms>', `with --log-socket: a follower that reads nothing for MS while the feed waits on it is cut off, told where to follow again from (default ${FEED_STALL_MS}; 0: never)`, intArg('--feed-stall-ms', 0, 2147483647))
    .option('--store <url>', 'log to the fleet stream instead of --db: nats://HOST:PORT[,HOST:PORT]/FLEET/HOST (docs/fleet.md)')
    .option('--qemu <version>', 'the QEMU version this process models: 7.2 (default) or 10.0; declared (logged) when the process starts, refused for a process already started on another', qemuArg())
    .option('--run-jobs', "jobs run by themselves, as QEMU's do: once a command is answered, each running job is moved on (x-blockgraph-job-advance, logged; a speed-limited one after the time its bytes take), its events sent to every client")
    .option('--image-dir <dir>', "the host's image directory: a file a command names that the catalogue lacks is probed there (qemu-img info) and recorded (x-blockgraph-image-create) before the command")
    .option('--intent-first', "(the default) a command that may change the graph is made durable as its request (the intent) before the model runs, so the fsync runs while the model decides and the record is built; a crash before the record is written is recovered by running the intent again (docs/drills.md \"Version 7\")")
    .option('--no-intent-first', "the record is the command's first write (as before stop 43): its synced batch after the model, the reply after it")
    .action(async (o) => {
      if (o.connect !== undefined && o.socket !== undefined) badInput('--connect and --socket: one or the other (a server listens, or connects out)');
      if (o.reconnect !== undefined && o.connect === undefined) badInput('--reconnect: only with --connect');
      if (o.connect === '') badInput('--connect: an empty path');
      if (o.feedStallMs !== undefined && o.logSocket === undefined) badInput('--feed-stall-ms: only with --log-socket');
      // before the store is opened (or made): a refusal leaves nothing behind
      for (const p of [o.socket, o.logSocket]) if (p !== undefined) checkUnixPath(p);
      // The store behind a backend that refuses (not dies) on a full disk, with a read socket
      // so read commands work while this server holds the store (cli/live-store.ts).
      const store = await ServedStore.open(o.store ?? o.db, { clock: wallClock, snapshotEvery: 1000, warn: (l) => process.stderr.write(l + '\n'), ...(o.intentFirst === false ? { intentFirst: false } : {}) });
      let live: LiveHost | undefined;
      try {
        const engine: ModelBackend = o.runJobs || o.imageDir !== undefined
          ? (live = new LiveHost(store, o.proc, { runJobs: o.runJobs === true, imageDir: o.imageDir, note: (m) => process.stderr.write(`blockgraph: ${m}\n`) }))
          : store;
        if (o.qemu) await declareProcessVersion(engine, o.proc, o.qemu);
        // A getter: after a failed write the store reopens its log, and followers go on from it.
        const feed = o.logSocket ? await serveLogSocket(() => store.log, o.logSocket, { stallMs: o.feedStallMs ?? FEED_STALL_MS, warn: (l) => process.stderr.write(l + '\n') }).catch((e: NodeJS.ErrnoException) => {
          if (e instanceof BlockgraphError) throw e;
          throw new BlockgraphError('BG_BAD_INPUT', `cannot listen on ${o.logSocket}: ${e.code ?? e.message}`);
        }) : undefined;
        // SIGTERM, SIGINT, SIGHUP and `quit` all stop the same way (QSD's termsig_handler,
        // cli/stop-signals.ts): no new clients, the request in progress is finished and answered,
        // every connection is closed, exit 0.
        let stopNow!: (why: string) => void;
        const stopRequested = new Promise<string>((r) => { stopNow = r; });
        const offSignals = onStopSignal((sig) => stopNow(sig));
        const offBlocked = ignoreBlockedSignals();
        const note = (m: string) => { process.stderr.write(`blockgraph: ${m}\n`); };
        const opts = {
          proc: o.proc, note, onQuit: () => stopNow('quit'),
          reject: (proc: string, data: Record<string, unknown> | Record<string, unknown>[]) => store.reject(proc, data),
        };
        try {
          if (o.socket) {
            const server = await listenQmp(engine, o.socket, opts).catch((e: NodeJS.ErrnoException) => {
              if (e instanceof BlockgraphError) throw e;
              throw new BlockgraphError('BG_BAD_INPUT', `cannot listen on ${o.socket}: ${e.code ?? e.message}`);
            });
            if (live) live.events = (evs) => { for (const s of server.sessions) if (!s.isClosed) s.sendEvents(evs); };
            note(`QMP on ${o.socket} (store ${o.db})`);
            const why = await stopRequested;
            note(`${why}: stopping`);
            await server.stop();
            rmSync(o.socket, { force: true });
          } else if (o.connect !== undefined) {
            const link = await connectQmp(engine, o.connect, { ...opts, reconnect: o.reconnect ?? 0 });
            if (live) live.events = (evs) => { if (link.session && !link.session.isClosed) link.session.sendEvents(evs); };
            note(`QMP ${link.session ? 'connected' : 'connecting'} to ${o.connect} (store ${o.db})`);
            const why = await stopRequested;
            note(`${why}: stopping`);
            await link.stop();
          } else {
            const served = serveQmp(engine, process.stdin, process.stdout, opts);
            if (live) live.events = (evs) => { if (!served.session.isClosed) served.session.sendEvents(evs); };
            await Promise.race([served, stopRequested]);
            served.session.stop();
            await served;
            process.stdin.destroy();
          }
        } finally {
          live?.close();
          offSignals();
          offBlocked();
          feed?.close();
        }
      } finally {
        await store.close();
      }
    });

  qmp.command('run')
    .description('run a scenario or transcript against the model and write its transcript')
    .argument('<file>')
    .option('--out <file>', 'write the transcript here (default: stdout)', outArg())
    .option('--db <dir>', 'log the run into this LevelDB (default: in memory)')
    .option('--compare', 'compare with the file given (a transcript) and exit 1 on any mismatch')
    .option('--qemu <version>', "the QEMU version's rules to run under: 7.2 or 10.0 (default: the version that recorded a transcript, else 7.2)", qemuArg())
    .option('--timeout <seconds>', TIMEOUT_HELP, intArg('--timeout', 0, 86400))
    .action(async (file, o) => {
      // read once: FILE may be a pipe (`qmp run <(…)`), which a second read would find empty
      const input = await readInput(file, o.timeout);
      const scenario = parseScenario(input, file);
      const qemuVersion: QemuVersion = o.qemu ?? recordedVersion(input);
      const log = o.db ? await openClassic(o.db, { checkFirst: true }) : await openMemory();
      const engine = await Engine.open(log, { clock: wallClock });
      const t = await runOnModel(scenario, o.db ? engine : new MemoryBackend(), { qemuVersion });
      await log.close();
      const text = printTranscript(t);
      if (o.out) writeOutputFile(o.out, text);
      else if (!o.compare) process.stdout.write(text);
      if (o.compare) {
        const c = compareTranscripts(parseTranscript(input, file), t);
        console.log(comparisonText(c));
        process.exitCode = c.steps.every((s) => s.outcome && s.errorText && s.graph) ? EXIT.ok : EXIT.failed;
      }
    });

  qmp.command('record')
    .description('record a transcript from a real qemu-storage-daemon (apt-get install qemu-utils qemu-system-common)')
    .argument('<scenario>')
    .option('--out <file>', 'write the transcript here (default: stdout)', outArg())
    .option('--target <target>', 'qsd (qemu-storage-daemon) or vm (qemu-system-x86_64 with the scenario\'s `vm` machine); default: vm when the scenario has a `vm` member', undefined)
    .option('--qemu <version>', 'which QEMU (qemu-storage-daemon, or qemu-system-x86_64 with --target vm): 7.2 (the system one, default) or 10.0 (BLOCKGRAPH_QEMU_10_0_DIR, ~/.cache/blockgraph/qemu-10.0, /opt/qemu10; scripts/fetch-qemu-10.sh)', qemuArg())
    .option('--timeout <seconds>', TIMEOUT_HELP, intArg('--timeout', 0, 86400))
    .action(async (file, o) => {
      const scenario = parseScenario(await readInput(file, o.timeout), file);
      const target = o.target ?? (scenario.vm !== undefined ? 'vm' : 'qsd');
      if (target !== 'qsd' && target !== 'vm') badInput(`--target must be qsd or vm, not '${String(target)}'`);
      if (target === 'vm' && scenario.vm === undefined) badInput(`--target vm needs a scenario with a 'vm' member (the machine)`);
      if (target === 'qsd' && scenario.vm !== undefined) badInput(`a scenario with a 'vm' member records with --target vm`);
      // --qemu 10.0 --target vm: 10.0's qemu-system-x86_64, unpacked beside its daemon
      const bins = target === 'vm' ? requireQemuVm(o.qemu ?? '7.2') : requireQemuBinaries(o.qemu ?? '7.2');
      // a directory of the host the scenario declares (its O_DIRECT alignment), whose facts the
      // transcript then carries (oracle/image-root.ts)
      // directories of recordings that died by SIGKILL (their pid is in the name), in both roots
      sweepAtStart('qmp record', [imageRoot(), tmpdir()]);
      const root = recordingRoot(scenario);
      // a signal ends the recording at once: its daemons killed, this directory removed
      const uninstall = cleanupOnSignals('qmp record');
      const dir = makeOwnedDirSync(root, 'blockgraph-rec');
      try {
        // qemu-img and qemu-io of the same version make the images
        await createImagesWithQemuImg(scenario, dir, bins);
        const t = await runScenario(onHostOf(scenario, root), (proc) => (target === 'vm' ? spawnVm(dir, scenario.vm!, { label: proc, bins }) : spawnQsd(dir, { bin: bins.qsd })), { dir });
        const text = printTranscript(t);
        if (o.out) writeOutputFile(o.out, text);
        else process.stdout.write(text);
      } finally {
        try { removeOwnedSync(dir); } finally { uninstall(); }
      }
    });

  qmp.command('machine-facts')
    .description("record a machine's facts the model has no mechanism for (the vCPU's QOM properties, migration capabilities, CPU slots) from the real qemu-system-x86_64, as the fixture x-blockgraph-machine-facts takes (oracle/machine-facts/VERSION/MACHINE-CPU.json)")
    .option('--machine <type>', 'q35 (default) or pc', 'q35')
    .option('--cpu <model>', 'the -cpu model (qemu64, the TCG default libvirt passes)', 'qemu64')
    .option('--qemu <version>', 'which QEMU: 7.2 (default) or 10.0', qemuArg())
    .option('--out <file>', 'write the fixture here (default: stdout)', outArg())
    .action(async (o) => {
      if (o.machine !== 'q35' && o.machine !== 'pc') badInput(`--machine must be q35 or pc, not '${String(o.machine)}'`);
      const facts = await recordMachineFacts(requireQemuVm(o.qemu ?? '7.2'), o.machine, o.cpu);
      const text = JSON.stringify(facts, null, 1) + '\n';
      if (o.out) writeOutputFile(o.out, text);
      else process.stdout.write(text);
    });

  registerQmpProxy(qmp);

  qmp.command('compare')
    .description('compare two transcripts step by step: outcome, error text, graph')
    .argument('<expected>').argument('<actual>')
    .option('--json', 'JSON report')
    .option('--qemu <version>', 'the QEMU version EXPECTED must have been recorded on (7.2 or 10.0); a transcript of another version is bad input (exit 2)', qemuArg())
    .option('--timeout <seconds>', TIMEOUT_HELP, intArg('--timeout', 0, 86400))
    .action(async (a, b, o) => {
      // (before, a directory or a missing file was reported as the store's I/O error, exit 74)
      const expected = parseTranscript(await readInput(a, o.timeout), a);
      const actual = parseTranscript(await readInput(b, o.timeout), b);
      const [ve, va] = [transcriptVersion(expected), transcriptVersion(actual)];
      if (o.qemu && ve !== o.qemu) throw new BlockgraphError('BG_BAD_INPUT', `${a} was recorded on QEMU ${ve} (${expected.qemu}), not ${o.qemu}`);
      const c = compareTranscripts(expected, actual);
      if (o.json) printJson({ ...c, qemu: { expected: ve, actual: va } });
      else {
        console.log(comparisonText(c));
        // comparing across versions is allowed (it is how differences are found), but said
        if (ve !== va) console.log(`note: ${a} is QEMU ${ve}, ${b} is QEMU ${va}`);
      }
      process.exitCode = c.steps.every((s) => s.outcome && s.errorText && s.graph) ? EXIT.ok : EXIT.failed;
    });
}
