// A log the size of the one issue 11 reported `report` failing on: 1,500 nodes and 10,500
// records, written through the real engine into a real LevelDB (null-co nodes: four records
// per blockdev-add, the cheapest way to that size), then AioContext moves and refusals.
import { Engine } from '../../engine/engine.js';
import { openClassic } from '../../store/index.js';

export async function writeBigLog(dir: string, opts: { nodes?: number; records?: number } = {}): Promise<{ head: number; nodes: number; commands: number }> {
  const nodes = opts.nodes ?? 1500;
  const target = opts.records ?? 10_500;
  const log = await openClassic(dir);
  let t = Date.parse('2026-01-01T00:00:00Z');
  const e = await Engine.open(log, { clock: () => new Date((t += 10)).toISOString() });
  let commands = 0;
  const run = async (cmd: string, args: Record<string, unknown>) => {
    commands++;
    const r = await e.execute('A', cmd, args);
    if ('error' in r.reply && !cmd.startsWith('blockdev-del')) throw new Error(`${cmd}: ${r.reply.error.desc}`);
  };
  await run('object-add', { 'qom-type': 'iothread', id: 'io0' });
  for (let i = 0; i < nodes && log.head < target; i++) await run('blockdev-add', { driver: 'null-co', 'node-name': `d${i}` });
  // Then moves between AioContexts and refusals until the log is as long as asked.
  for (let i = 0; log.head < target; i++) {
    const n = `d${i % nodes}`;
    if (i % 3 === 2) await run('blockdev-del', { 'node-name': `nosuch${i}` });
    else await run('x-blockdev-set-iothread', { 'node-name': n, iothread: (Math.floor(i / nodes) % 2) ? null : 'io0' });
  }
  const head = log.head;
  await log.close();
  return { head, nodes, commands };
}
