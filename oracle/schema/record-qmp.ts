// Records what schema-driven clients ask first from the real qemu-storage-daemon 7.2 (query-commands,
// query-qmp-schema, the greeting's version) into commands/qsd/recording.ts, which the server serves.
// `node --import tsx oracle/schema/record-qmp.ts` (needs qemu-storage-daemon 7.2 installed).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Qsd } from './qsd.js';

const q = await Qsd.start();
try {
  const get = async (cmd: string) => {
    const r = await q.exec(cmd);
    if (!r.ok) throw new Error(`${cmd}: ${r.desc}`);
    return r.ret;
  };
  const version = await get('query-version');
  const commands = await get('query-commands');
  const schema = await get('query-qmp-schema');
  const banner = spawnSync('qemu-storage-daemon', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const data = { qemu: banner, recorded: new Date().toISOString().slice(0, 10), version, commands, schema };
  writeFileSync(new URL('../../commands/qsd/recording.ts', import.meta.url), [
    '// Recorded by oracle/schema/record-qmp.ts from the real daemon; do not edit.',
    `// ${banner}, recorded ${data.recorded}: query-version, query-commands, query-qmp-schema as returned.`,
    'export interface QsdRecording { qemu: string; recorded: string; version: { qemu: { major: number; minor: number; micro: number }; package: string };',
    '  commands: { name: string }[]; schema: Record<string, unknown>[] }',
    `export const QSD_RECORDING: QsdRecording = JSON.parse(${JSON.stringify(JSON.stringify(data))});`,
    '',
  ].join('\n'));
  console.log(`recorded ${(commands as unknown[]).length} commands, ${(schema as unknown[]).length} schema entries`);
} finally {
  await q.stop();
}
