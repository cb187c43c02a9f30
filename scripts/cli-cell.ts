// One cell of the CLI matrix (scripts/cli-matrix.ts): the CLI's own main() with an argv read from
// a JSON file, so that values execve(2) cannot carry reach the CLI as a shell could never give
// them: a NUL inside an argument, a 1 MB argument (MAX_ARG_STRLEN is 128 KiB). `{"utf8": HEX}`
// items are bytes decoded as Node decodes argv (invalid UTF-8 becomes U+FFFD). Otherwise it is
// exactly cli/main.ts run from source: the same main(), the same exit code.
//
//   node --import tsx scripts/cli-cell.ts CELL.argv.json
import { readFileSync } from 'node:fs';
import { main } from '../cli/main.js';

// The demo runs its crash child as `process.argv[1] _crash-child …`: plain CLI arguments then.
const file = process.argv[2] ?? '';
const raw = (file.endsWith('.argv.json') ? JSON.parse(readFileSync(file, 'utf8')) : process.argv.slice(2)) as Array<string | { utf8: string }>;
const argv = raw.map((a) => (typeof a === 'string' ? a : Buffer.from(a.utf8, 'hex').toString('utf8')));
main(argv).then((code) => { process.exitCode = code; });
