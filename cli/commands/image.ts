import type { Command } from 'commander';
import { DEFAULT_DB, EXIT, withEngine } from '../context.js';

export function registerImage(program: Command): void {
  const img = program.command('image').description('the host image catalogue (like qemu-img)');
  img.command('create')
    .description('create an image in the catalogue: image create [-f FMT] [-b BACKING -F FMT] FILE [SIZE]')
    .argument('<file>').argument('[size]')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('-f, --format <fmt>', 'qcow2 or raw', 'qcow2')
    .option('-b, --backing <file>', 'backing file named in the header')
    .option('-F, --backing-format <fmt>', 'format of the backing file')
    .action(async (file, size, o) => {
      const args: Record<string, unknown> = { file, format: o.format, ...(size ? { size } : {}) };
      if (o.backing) args.backing = o.backing;
      if (o.backingFormat) args['backing-format'] = o.backingFormat;
      const r = await withEngine(o.db, (e) => e.execute('host', 'x-blockgraph-image-create', args));
      if ('error' in r.reply) { console.error(`blockgraph: ${r.reply.error.desc}`); process.exitCode = EXIT.usage; }
      else console.log(`created ${file}`);
    });
}
