// The `blockgraph` command. Each subcommand lives in cli/commands/; exit codes in context.ts.
// Start-up stays light: only the module of the command being run is imported (COMMANDS below
// names the others with their one-line description, for the top-level help), and the command
// files import the library (store, engine, replay, oracle) inside their actions, so `--help`
// and `--version` load neither level nor rxjs nor xstate (bench/RESULTS.md has the figures).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { BlockgraphError, isBlockgraphError } from '../errors/index.js';
import { EXIT, exitCodeFor } from './context.js';
import { installStdoutGuard } from './stdout.js';

/** The read commands that take --fleet/--host (cli/fleet-options.ts names the same list). */
const FLEET_READ_COMMANDS = ['audit', 'tail', 'log', 'show', 'history', 'diff', 'replay', 'report'];

/** The package's version, read from its package.json (two levels up from cli/ and dist/cli/). */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pj = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pj.name === 'blockgraph' && pj.version) return pj.version;
    } catch { /* try the next */ }
  }
  return 'unknown';
}

type Register = (program: Command) => void;
/** A command's help line, and the module (cli/commands/MODULE.ts) whose REGISTER function defines it. */
interface CommandEntry { description: string; module: string; register: string }

async function load(c: CommandEntry): Promise<Register> {
  const m = (await import(`./commands/${c.module}.js`)) as Record<string, Register>;
  return m[c.register]!;
}

/**
 * Every top-level command: its description (the same text its module gives it; a spec checks)
 * and how to load the module that defines it. Order is the order of the top-level help.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  demo: { description: 'build a small chain, run transactions, crash one mid-way (kill -9), recover, print the log and the graph', module: 'demo', register: 'registerDemo' },
  log: { description: 'print the event log, one row per record (seq, time, process, type, transaction, summary)', module: 'log', register: 'registerLog' },
  show: { description: 'print the graph, now or as it was at a seq or time; or one node (--node) or its backing chain (--chain)', module: 'show', register: 'registerShow' },
  replay: { description: 'rebuild the state from the log; --verify recomputes every recorded state hash', module: 'replay', register: 'registerReplay' },
  qmp: { description: 'QMP on stdio (default), a unix socket, or connecting out to a listening client, backed by a durable log; and the oracle tools (run, record, proxy, compare)', module: 'qmp', register: 'registerQmp' },
  image: { description: 'the host image catalogue (like qemu-img)', module: 'image', register: 'registerImage' },
  verify: { description: 'check the store without changing it: LevelDB files, contiguity, CRC of every record, hash chain, the anchor of the last acknowledged record, snapshots', module: 'store', register: 'registerStoreCommands' },
  repair: { description: 'keep the verified prefix, move every record after the break to a quarantine file (LevelDB repair first where its files are damaged); explicit, never automatic', module: 'store', register: 'registerStoreCommands' },
  conformance: { description: 'run every oracle transcript through the model and score outcome, error text and graph per area', module: 'conformance', register: 'registerConformance' },
  plan: { description: 'show what an operation would do, without doing it', module: 'plan', register: 'registerPlan' },
  fixture: { description: 'fixtures: a seq range of a log as self-contained JSON lines (header with the state before the range, then the records)', module: 'fixture', register: 'registerFixture' },
  import: { description: "run a QEMU session (blockgraph-oracle/1 transcript or a qmp-shell -l log) through the model into the log, checking each step against QEMU's answer; disagreements are logged as import.disagreed (exit 1 if any)", module: 'import', register: 'registerImport' },
  audit: { description: 'who did what, when: one row per transaction, refused command and recovery action', module: 'audit', register: 'registerAudit' },
  tail: { description: 'print log records from --from on, then follow new ones live (a store nobody holds via --db, or one served by `blockgraph qmp --log-socket PATH` via --connect PATH)', module: 'audit', register: 'registerAudit' },
  diff: { description: 'what changed between two points of the log (seq or ISO time): nodes, edges, perms, options, locks, AioContexts, jobs, exports', module: 'diff', register: 'registerDiff' },
  history: { description: 'every logged step that touched a node (the node or an edge to/from it), with its transaction and command', module: 'diff', register: 'registerDiff' },
  render: { description: 'draw the graph (now or at a seq/time) as Graphviz DOT or SVG, with a legend', module: 'render', register: 'registerRender' },
  report: { description: 'write a browsable HTML report (DIR/index.html and its pages): the timeline, paged, and one page per entry with the graph around what it touched', module: 'report', register: 'registerReport' },
  drill: { description: 'kill a run of SCENARIO with SIGKILL at every crash point (or at random times) on a real LevelDB, recover, and check the state', module: 'drill', register: 'registerDrill' },
  ship: { description: "copy a host's log to the fleet stream (NATS JetStream), resuming where the fleet copy ends; --connect follows a live store", module: 'ship', register: 'registerShip' },
  fuzz: { description: 'differential fuzzing: command sequences generated over the live graph, run on qemu-storage-daemon and on the model; disagreements shrunk and saved', module: 'fuzz', register: 'registerFuzz' },
};
/** Hidden commands (not in the help): the entry whose module defines them. */
const HIDDEN: Record<string, CommandEntry> = {
  '_crash-child': COMMANDS.demo!,
};

/**
 * Examples for the commands whose modules are owned by the QMP server work (cli/commands/qmp.ts,
 * qmp-proxy.ts), kept here so that file stays about serving; every other module writes its own.
 */
const EXAMPLES: Record<string, string> = {
  qmp: `  $ blockgraph qmp --db /var/lib/bg --socket /tmp/bg.sock --log-socket /tmp/bg.log
  $ printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-named-block-nodes"}' | blockgraph qmp --db /tmp/bg`,
  'qmp run': `  $ blockgraph qmp run scenario.json --out transcript.json
  $ blockgraph qmp run node_modules/blockgraph/oracle/transcripts/reopen-ro-rw.json --compare --db /tmp/run.db`,
  'qmp record': `  $ blockgraph qmp record scenario.json --out transcript.json      (needs qemu-storage-daemon and qemu-img)`,
  'qmp proxy': `  $ blockgraph qmp proxy --listen /tmp/proxy.sock --connect /tmp/qsd.sock --db /tmp/proxy.db --image-dir /var/lib/images`,
  'qmp compare': `  $ blockgraph qmp compare recorded.json model.json --json`,
  'qmp machine-facts': `  $ blockgraph qmp machine-facts --machine pc --out pc-qemu64.json      (needs qemu-system-x86_64)
  $ blockgraph qmp machine-facts --qemu 10.0 --machine q35`,
  ship: `  $ blockgraph ship --db /var/lib/bg --to nats://127.0.0.1:4222/prod/host17
  $ blockgraph ship --db /var/lib/bg --to nats://127.0.0.1:4222/prod/host17 --connect /run/bg.log`,
  fuzz: `  $ blockgraph fuzz --against qsd --seed 7 --commands 2000 --out fuzz-found
  $ blockgraph fuzz --against qsd --commands 300 --no-shrink --json`,
};

function addExamples(cmd: Command, path: string): void {
  const ex = EXAMPLES[path];
  if (ex) cmd.addHelpText('after', `\nExamples:\n${ex}`);
  for (const c of cmd.commands) addExamples(c, `${path} ${c.name()}`);
}

/** commander's `error: unknown option '--x'\n(Did you mean --y?)\n` as one coded line. */
export function usageLine(str: string): string {
  return `blockgraph: ${str.replace(/^error: /, '').trim().split('\n').map((l) => l.trim()).join(' ')} [BG_BAD_INPUT]\n`;
}

/** The command the arguments run (`help X` asks about X). */
function commandOf(argv: string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The program with every command: the one `argv` runs fully defined (its module loaded), the
 * others as name and description only. With `all`, every module is loaded (tests, docs).
 */
export async function buildProgram(argv: string[] = [], opts: { all?: boolean } = {}): Promise<Command> {
  const program = new Command('blockgraph')
    .description("QEMU's block graph as an event-sourced state machine over a LevelDB log")
    .version(packageVersion(), '-V, --version', 'print the version')
    // A subcommand's own options win over its parent's: `qmp proxy --db DIR` is the proxy's
    // --db, not `qmp`'s (commander otherwise lets the parent take it).
    .enablePositionalOptions()
    .exitOverride()
    // commander's own refusals (an unknown option, a missing value or argument, one too many)
    // are bad input like any other: one `blockgraph: … [BG_BAD_INPUT]` line (a script greps the
    // code, as for the refusals our parsers make), exit 2. Subcommands inherit it.
    .configureOutput({ outputError: (str, write) => write(usageLine(str)) });
  const wanted = commandOf(argv);
  const want = wanted === undefined ? undefined : COMMANDS[wanted] ?? HIDDEN[wanted];
  const loaded = new Set<string>();
  for (const [name, c] of Object.entries(COMMANDS)) {
    if (program.commands.some((x) => x.name() === name)) continue; // its module defined it already (audit + tail)
    if ((opts.all || c.module === want?.module) && !loaded.has(c.module)) {
      loaded.add(c.module);
      (await load(c))(program);
      continue;
    }
    program.command(name).description(c.description);
  }
  // --fleet/--host on the read commands (cli/fleet-options.ts), added to whichever were loaded.
  if (opts.all || (wanted !== undefined && FLEET_READ_COMMANDS.includes(wanted))) {
    (await import('./fleet-options.js')).registerFleetOptions(program);
  }
  for (const c of program.commands) addExamples(c, c.name());
  program.addHelpText('after', `
Examples:
  $ blockgraph demo                         a chain, a crash mid-transaction, recovery
  $ blockgraph log --db ./blockgraph.db     the log as a table
  $ blockgraph show --chain top             one node's backing chain, as qemu-img info --backing-chain

Exit codes: 0 ok, 1 the answer is no, 2 bad input, 3 damaged log, 4 store locked, 70 internal.`);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  installStdoutGuard();
  try {
    // execve(2) cannot pass a NUL inside an argument, but main() is also called with an array
    // (bin/, scripts, a library user): no path, name or number may hold one, and node:fs throws
    // a TypeError on a path that does (it surfaced only when a socket was removed at exit).
    const nul = argv.findIndex((a) => a.includes('\u0000'));
    if (nul >= 0) throw new BlockgraphError('BG_BAD_INPUT', `argument ${nul + 1} (${JSON.stringify(argv[nul]!.slice(0, 40))}) holds a NUL byte`);
    // Node decodes argv as UTF-8 and puts U+FFFD for bytes that are not (a Latin-1 file name):
    // `render --out $'\xe9t\xe9.dot'` wrote a file named "\uFFFDt\uFFFD.dot", another name than
    // the one given (scripts/cli-matrix.ts, round 10), and a --db so named made or read another
    // store. No name the CLI takes (paths, node names, seqs, times) can be told from such an
    // argument, so it is refused before anything runs (a file name holding U+FFFD itself too).
    const lossy = argv.findIndex((a) => a.includes('\uFFFD'));
    if (lossy >= 0) throw new BlockgraphError('BG_BAD_INPUT', `argument ${lossy + 1} (${JSON.stringify(argv[lossy]!.slice(0, 40))}) is not valid UTF-8: its bytes cannot be passed on as given (name the file in UTF-8)`);
    await (await buildProgram(argv)).parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isBlockgraphError(e)) {
      console.error(`blockgraph: ${e.message} [${e.code}]`);
      return exitCodeFor(e);
    }
    // A file the user named that is missing or unreadable is their input, not our bug.
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object' && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR' || err.code === 'ENOTDIR') && err.path) {
      console.error(`blockgraph: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : 'not a directory'}: ${err.path} [BG_BAD_INPUT]`);
      return EXIT.usage;
    }
    // The disk refused an output file (render --out, fixture export --out …): the same code and
    // exit as a store the disk refuses (BG_STORAGE_IO, 74), not "the answer is no".
    if (err && typeof err === 'object' && (err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 'EROFS' || err.code === 'EIO')) {
      const what = err.code === 'ENOSPC' ? 'no space left on device' : err.code === 'EDQUOT' ? 'disk quota exceeded' : err.code === 'EROFS' ? 'read-only file system' : 'I/O error';
      console.error(`blockgraph: ${what}${err.path ? `: ${err.path}` : ''} [BG_STORAGE_IO]`);
      return EXIT.io;
    }
    // A LEVEL_* error that escaped its command still gets its cause, not a stack (store/ is
    // loaded only on this path, so start-up stays free of level).
    const { levelError } = await import('../store/index.js');
    const mapped = levelError(e, '(store)');
    if (isBlockgraphError(mapped)) {
      console.error(`blockgraph: ${mapped.message} [${mapped.code}]`);
      return exitCodeFor(mapped);
    }
    console.error(e instanceof Error ? e.stack : e);
    return EXIT.internal;
  }
}

// Run directly from source: node --import tsx cli/main.ts …
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
