// cli/: the `blockgraph` command. main.ts builds the commander program (only the module of the
// command being run is loaded); cli/commands/ holds one module per command or command group,
// args.ts the shared value parsers, stdout.ts the EPIPE guard, context.ts store opening and exit
// codes, render-text.ts and report-template.ts the text and HTML views. May import every
// library folder; nothing imports cli/ (bin/blockgraph.js runs dist/cli/main.js).
export { main, buildProgram, packageVersion, COMMANDS } from './main.js';
export { EXIT } from './context.js';
