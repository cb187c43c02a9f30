// The `blockgraph` command. Each subcommand lives in cli/commands/; exit codes in context.ts.
import { Command, CommanderError } from 'commander';
import { isBlockgraphError } from '../errors/index.js';
import { registerAudit } from './commands/audit.js';
import { registerConformance } from './commands/conformance.js';
import { registerDiff } from './commands/diff.js';
import { registerDemo } from './commands/demo.js';
import { registerDrill } from './commands/drill.js';
import { registerFixture } from './commands/fixture.js';
import { registerFuzz } from './commands/fuzz.js';
import { registerImage } from './commands/image.js';
import { registerImport } from './commands/import.js';
import { registerLog } from './commands/log.js';
import { registerPlan } from './commands/plan.js';
import { registerQmp } from './commands/qmp.js';
import { registerReplay } from './commands/replay.js';
import { registerRender } from './commands/render.js';
import { registerReport } from './commands/report.js';
import { registerShow } from './commands/show.js';
import { registerStoreCommands } from './commands/store.js';
import { EXIT, exitCodeFor } from './context.js';

export function buildProgram(): Command {
  const program = new Command('blockgraph')
    .description("QEMU's block graph as an event-sourced state machine over a LevelDB log")
    .exitOverride();
  for (const r of [registerDemo, registerLog, registerShow, registerReplay, registerQmp, registerImage, registerStoreCommands, registerConformance, registerPlan, registerFixture, registerImport, registerAudit, registerDiff, registerRender, registerReport, registerDrill, registerFuzz]) r(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isBlockgraphError(e)) {
      console.error(`blockgraph: ${e.message} [${e.code}]`);
      return exitCodeFor(e);
    }
    console.error(e instanceof Error ? e.stack : e);
    return EXIT.internal;
  }
}

// Run directly from source: node --import tsx cli/main.ts …
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
