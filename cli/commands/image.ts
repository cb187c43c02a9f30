// `blockgraph image create|info`: the host image catalogue, as qemu-img sees image files.
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { Image, State } from '../../graph/types.js';
import { choiceArg, nameArg } from '../args.js';
import { DEFAULT_DB, EXIT, printJson, withEngine, withReadLog } from '../context.js';

/** Which open nodes of which processes have an image file open (by filename). */
function openedBy(state: State, file: string): string[] {
  const out: string[] = [];
  for (const [scope, s] of Object.entries(state)) {
    if (scope === '@host') continue;
    for (const n of Object.values((s.nodes ?? {}) as Record<string, { name: string; driver: string; filename: string; ro: boolean }>)) {
      if (n.filename === file && n.driver === 'file') out.push(`${scope} node ${n.name}${n.ro ? ' (ro)' : ''}`);
    }
  }
  return out;
}

export function registerImage(program: Command): void {
  const img = program.command('image').description('the host image catalogue (like qemu-img)');
  img.command('create')
    .description('create an image in the catalogue: image create [-f FMT] [-b BACKING -F FMT] FILE [SIZE] (format raw unless -f, as qemu-img create)')
    .argument('<file>', 'image file name', nameArg('FILE')).argument('[size]', 'virtual size (bytes, or with a suffix: 64M, 1G); with -b it defaults to the backing file\'s')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    // qemu-img.c img_create: `fmt = "raw"` unless -f is given.
    .option('-f, --format <fmt>', 'qcow2, qed or raw', choiceArg('--format', ['qcow2', 'qed', 'raw'] as const), 'raw')
    .option('-b, --backing <file>', 'backing file named in the header (qcow2, qed)', nameArg('--backing'))
    .option('-F, --backing-format <fmt>', 'format of the backing file (a qed header keeps only raw)', choiceArg('--backing-format', ['qcow2', 'qed', 'raw'] as const))
    .addHelpText('after', `
Examples:
  $ blockgraph image create disk.raw 1G
  $ blockgraph image create -f qcow2 base.qcow2 64M
  $ blockgraph image create -f qcow2 -b base.qcow2 -F qcow2 top.qcow2`)
    .action(async (file, size, o) => {
      const args: Record<string, unknown> = { file, format: o.format, ...(size ? { size } : {}) };
      if (o.backing) args.backing = o.backing;
      if (o.backingFormat) args['backing-format'] = o.backingFormat;
      const r = await withEngine(o.db, (e) => e.execute('host', 'x-blockgraph-image-create', args));
      // qemu-img refused it (the catalogue logged the refusal): bad input, with its code as every exit 2
      if ('error' in r.reply) { console.error(`blockgraph: ${r.reply.error.desc} [BG_BAD_INPUT]`); process.exitCode = EXIT.usage; }
      else console.log(`Formatting '${file}', fmt=${o.format}${size ? ` size=${size}` : ''}${o.backing ? ` backing_file=${o.backing}` : ''}${o.backingFormat ? ` backing_fmt=${o.backingFormat}` : ''}`);
    });
  img.command('info')
    .description('an image of the catalogue as qemu-img info shows it, and which nodes have it open')
    .argument('<file>', 'image file name', nameArg('FILE'))
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--backing-chain', 'also every image below it along the backing files named in the headers')
    .option('--json', 'the catalogue entries as JSON')
    .addHelpText('after', `
Examples:
  $ blockgraph image info top.qcow2
  $ blockgraph image info top.qcow2 --backing-chain --json`)
    .action(async (file: string, o) => {
      const { replay } = await import('../../replay/replay.js');
      const { sizeText } = await import('../render-text.js');
      // a read: never creates or changes the store (withReadLog), and is served by a running server
      await withReadLog(o.db, async (log) => {
        const { state } = await replay(log);
        const images = (state['@host']?.images ?? {}) as Record<string, Image>;
        if (!images[file]) throw new BlockgraphError('BG_NOT_FOUND', `no image '${file}' in the catalogue (images: ${Object.keys(images).sort().join(', ') || 'none'})`);
        const chain: (Image & { openedBy: string[] })[] = [];
        for (let f: string | undefined = file; f && images[f] && !chain.some((c) => c.file === f); f = o.backingChain ? images[f]!.backing : undefined) {
          chain.push({ ...images[f]!, openedBy: openedBy(state, f) });
        }
        if (o.json) return printJson(o.backingChain ? chain : chain[0]);
        console.log(chain.map((i) => [
          `image: ${i.file}`, `file format: ${i.format}`, `virtual size: ${sizeText(i.size)}`,
          ...(i.clusterSize ? [`cluster_size: ${i.clusterSize}`] : []),
          ...(i.backing ? [`backing file: ${i.backing}`, ...(i.backingFormat ? [`backing file format: ${i.backingFormat}`] : [])] : []),
          `open in: ${i.openedBy.join(', ') || 'nothing'}`,
        ].join('\n')).join('\n\n'));
      });
    });
}
