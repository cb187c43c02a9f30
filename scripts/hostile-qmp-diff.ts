// Hostile QMP input, side by side: each case is sent on a fresh connection to a live
// qemu-storage-daemon 7.2 and to `blockgraph qmp --socket` (a server process on a scratch store),
// and everything each writes back until it falls quiet (or closes) is compared byte for byte after
// normalising timestamps, the package string and #blockNNN names. The cases are inputs the side-
// by-side spec does not send: NUL and control bytes, BOMs, number edge cases, ids of every JSON
// type, malformed negotiation, OOB before and after negotiation, interpolation markers, keys
// QEMU does not know, big values.
//
//   node --import tsx scripts/hostile-qmp-diff.ts [--qemu 10.0] [--round 4] [--only N] [--show]
//
// Exit 1 if any case differs. Figures: docs/hostile.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

const v10 = process.argv.includes('--qemu') && process.argv[process.argv.indexOf('--qemu') + 1] === '10.0';
const onlyArg = process.argv.includes('--only') ? Number(process.argv[process.argv.indexOf('--only') + 1]) : undefined;
const show = process.argv.includes('--show');
const root = mkdtempSync(join(tmpdir(), 'bg-hostile-qmp-'));
const NEG = '{"execute":"qmp_capabilities"}';
const NEG_OOB = '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}';
const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** [label, bytes] — sent right after the greeting; a case negotiates itself when it needs to. */
export const CASES: [string, Buffer][] = [
  ['NUL outside a value', b(NEG, [0], '{"execute":"query-jobs"}')],
  ['NUL inside a string', b(NEG, '{"execute":"query-jobs","id":"a', [0], 'b"}')],
  ['\\u0000 escape in id', b(NEG, '{"execute":"query-jobs","id":"a\\u0000b"}')],
  ['raw newline and tab inside a string', b(NEG, '{"execute":"query-jobs","id":"a\nb\tc"}')],
  ['raw 0x7f and 0x1b inside a string', b(NEG, '{"execute":"query-jobs","id":"a', [0x7f, 0x1b], 'b"}')],
  ['UTF-8 BOM before the object', b([0xef, 0xbb, 0xbf], NEG)],
  ['lone continuation bytes outside strings', b(NEG, [0x80, 0xbf], '{"execute":"query-jobs"}')],
  ['0xff 0xfe outside strings', b(NEG, [0xff, 0xfe], '{"execute":"query-jobs"}')],
  ['overlong NUL (c0 80) in a string', b(NEG, '{"execute":"query-jobs","id":"', [0xc0, 0x80], '"}')],
  ['4-byte past U+10FFFF in a string', b(NEG, '{"execute":"query-jobs","id":"', [0xf4, 0x90, 0x80, 0x80], '"}')],
  ['U+FFFE noncharacter in a string', b(NEG, '{"execute":"query-jobs","id":"', [0xef, 0xbf, 0xbe], '"}')],
  ['escaped surrogate pair and lone low surrogate', b(NEG, '{"execute":"query-jobs","id":"\\ud83d\\ude00"}{"execute":"query-jobs","id":"\\udc00"}')],
  ['ids of every JSON type', b(NEG, '{"execute":"query-jobs","id":null}{"execute":"query-jobs","id":true}{"execute":"query-jobs","id":false}{"execute":"query-jobs","id":[]}{"execute":"query-jobs","id":{}}{"execute":"query-jobs","id":-0}{"execute":"query-jobs","id":1.0}{"execute":"query-jobs","id":0.1}{"execute":"query-jobs","id":-9223372036854775808}{"execute":"query-jobs","id":-9223372036854775809}{"execute":"query-jobs","id":18446744073709551616}{"execute":"query-jobs","id":1e-400}{"execute":"query-jobs","id":-1e400}')],
  ['id on a refused request of every kind', b(NEG, '{"execute":"nope","id":[1]}{"execute":"query-jobs","arguments":{"x":1},"id":{"k":"v"}}{"execute":"query-jobs","unknown":1,"id":2}{"arguments":{},"id":3}')],
  ['number edge cases as values', b(NEG, '{"execute":"query-jobs","id":01}{"execute":"query-jobs","id":1.}{"execute":"query-jobs","id":.5}{"execute":"query-jobs","id":1e}{"execute":"query-jobs","id":-}{"execute":"query-jobs","id":+1}{"execute":"query-jobs","id":0x10}')],
  ['keywords and case', b(NEG, '{"execute":"query-jobs","id":True}{"execute":"query-jobs","id":NULL}{"execute":"query-jobs","id":nul}{"execute":"query-jobs","id":truex}')],
  ['interpolation markers', b(NEG, '{"execute":"query-jobs","id":%d}{"execute":"query-jobs","id":%s}{"execute":"query-jobs","id":"%p"}')],
  ['single-quoted strings and escapes', b(NEG, "{'execute':'query-jobs','id':'it\\'s'}{'execute':'query-jobs','id':\"a'b\"}")],
  ['escape edge cases', b(NEG, '{"execute":"query-jobs","id":"\\/\\b\\f\\n\\r\\t\\""}{"execute":"query-jobs","id":"\\u00e9\\u20AC"}{"execute":"query-jobs","id":"\\u12"}{"execute":"query-jobs","id":"\\a"}')],
  ['top-level scalars', b(NEG, 'true false null 1 -1 1.5 "x" []')],
  ['execute of every wrong type', b(NEG, '{"execute":null}{"execute":true}{"execute":[]}{"execute":{}}{"execute":""}{"execute":"query-jobs","arguments":null}{"execute":"query-jobs","arguments":"x"}{"execute":"query-jobs","arguments":1}')],
  ['both execute and exec-oob', b(NEG_OOB, '{"execute":"query-jobs","exec-oob":"query-jobs","id":1}')],
  ['exec-oob before negotiation', b('{"exec-oob":"qmp_capabilities","id":1}{"exec-oob":"query-jobs","id":2}', NEG)],
  ['exec-oob after negotiating without oob', b(NEG, '{"exec-oob":"query-jobs","id":1}{"exec-oob":"x-oob-test","id":2}')],
  ['exec-oob after negotiating oob: no id, unknown, not allowed', b(NEG_OOB, '{"exec-oob":"query-jobs"}{"exec-oob":"nope","id":1}{"exec-oob":"query-jobs","id":2}{"exec-oob":"migrate-recover","id":3}')],
  ['negotiation variants', b('{"execute":"qmp_capabilities","arguments":{"enable":"oob"}}{"execute":"qmp_capabilities","arguments":{"enable":[1]}}{"execute":"qmp_capabilities","arguments":{"enable":["oob","nope"]}}{"execute":"qmp_capabilities","arguments":{"x":1}}{"execute":"qmp_capabilities","arguments":{"enable":[]},"id":"ok"}{"execute":"qmp_capabilities"}')],
  ['negotiation with oob twice in the list', b('{"execute":"qmp_capabilities","arguments":{"enable":["oob","oob"]},"id":1}{"exec-oob":"query-jobs","id":2}')],
  ['commands before negotiation', b('{"execute":"query-version","id":1}{"execute":"nope","id":2}{"execute":"query-jobs","arguments":{"bad":1}}', NEG)],
  ['control key (QEMU 2.x) and other unknown members', b(NEG, '{"execute":"query-jobs","control":{"run-oob":true}}{"execute":"query-jobs","id":1,"extra":[]}')],
  ['a 1 MB string id', b(NEG, '{"execute":"query-jobs","id":"' + 'x'.repeat(1 << 20) + '"}')],
  ['a 100k-member object as arguments', b(NEG, '{"execute":"query-jobs","arguments":{' + Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(',') + '}}')],
  ['a 100k-element id array', b(NEG, '{"execute":"query-jobs","id":[' + Array.from({ length: 100_000 }, (_, i) => i).join(',') + ']}')],
  ['1024 and 1025 deep', b(NEG, '{"execute":"query-jobs","id":' + '['.repeat(1023) + ']'.repeat(1023) + '}{"execute":"query-jobs","id":' + '['.repeat(1024) + ']'.repeat(1024) + '}')],
  ['duplicate keys at depth and in arguments', b(NEG, '{"execute":"query-jobs","id":{"a":{"b":1,"b":2}}}{"execute":"query-jobs","execute":"query-jobs"}')],
  ['whitespace zoo between tokens', b(NEG, ' \t\r\n{ \r\n"execute"\t:\n"query-jobs" , "id" :\r1 }\n\n')],
  ['form feed and vertical tab between tokens', b(NEG, '\f{"execute":"query-jobs"}\v{"execute":"query-jobs"}')],
  ['HMP through human-monitor-command (QSD has none)', b(NEG, '{"execute":"human-monitor-command","arguments":{"command-line":"info block"}}')],
  ['CR only line ends, then LF', b(NEG, '{"execute":"query-jobs"}\r{"execute":"query-jobs"}\n')],
  ['object keys non-string', b(NEG, '{1:2}{null:1}{[]:1}{"execute":"query-jobs",}')],
  ['unterminated string then a valid request', b(NEG, '{"execute":"query-jobs","id":"abc\n{"execute":"query-jobs"}')],
  ['stray closers then valid', b(NEG, ']]}}]{"execute":"query-jobs","id":"after"}')],
];

/** Round 4 (`--round 4`): inputs the first 41 did not try. */
export const CASES4: [string, Buffer][] = [
  ['raw CESU-8 surrogates in strings', b(NEG, '{"execute":"query-jobs","id":"', [0xed, 0xa0, 0x80], '"}{"execute":"query-jobs","id":"', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '"}')],
  ['escaped surrogates out of order', b(NEG, '{"execute":"query-jobs","id":"\\ud800x"}{"execute":"query-jobs","id":"\\ud800\\ud800"}{"execute":"query-jobs","id":"\\udc00\\ud800"}{"execute":"query-jobs","id":"\\ud800"}')],
  ['5-byte, overlong slash, overlong 3-byte', b(NEG, '{"execute":"query-jobs","id":"', [0xf8, 0x88, 0x80, 0x80, 0x80], '"}{"execute":"query-jobs","id":"', [0xc0, 0xaf], '"}{"execute":"query-jobs","id":"', [0xe0, 0x80, 0x80], '"}')],
  ['invalid UTF-8 in a key and in the command name', b(NEG, '{"exe', [0xff], 'cute":"query-jobs"}{"execute":"query-', [0xc3], 'jobs"}{"execute":"query-jobs\\u0000"}')],
  ['number formatting of ids', b(NEG, ['9007199254740993', '9223372036854775807', '-9223372036854775807', '1E2', '1e+2', '-0.0e-0', '0.30000000000000004', '1e22', '1e21', '5e-324', '1.7976931348623157e308', '123456789012345678901234567890', '0.1e1', '100000000000000000000'].map((n) => `{"execute":"query-jobs","id":${n}}`).join(''))],
  ['a 5000-digit integer id', b(NEG, '{"execute":"query-jobs","id":' + '9'.repeat(5000) + '}')],
  ['integers out of range in arguments', b(NEG, // (not -1: QSD 7.2 aborts on it, null_file_open's &error_abort; the model refuses it, a documented difference)
  ['1e400', '18446744073709551616', '18446744073709551615', '9223372036854775808', '1.5', '"1"', '-0', '1e3', 'true', 'null'].map((n, i) => `{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n${i}","size":${n}},"id":${i}}`).join(''))],
  ['booleans and enums of the wrong shape', b(NEG, '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"b0","read-only":1}}{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"b1","read-only":"yes"}}{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"b2","detect-zeroes":"ON"}}{"execute":"blockdev-add","arguments":{"driver":"NULL-CO","node-name":"b3"}}')],
  ['qmp_capabilities again, and a capability-less greeting answer', b(NEG, NEG, '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":1}{"execute":"qmp_capabilities","id":{"x":[1]}}')],
  ['NBSP, U+2028 and U+FEFF between tokens', b(NEG, [0xc2, 0xa0], '{"execute":"query-jobs","id":1}', [0xe2, 0x80, 0xa8], '{"execute":"query-jobs","id":2}', [0xef, 0xbb, 0xbf], '{"execute":"query-jobs","id":3}')],
  ['U+2028 and DEL inside a string id', b(NEG, '{"execute":"query-jobs","id":"a', [0xe2, 0x80, 0xa8], 'b', [0x7f], '"}')],
  ['1025 deep inside arguments', b(NEG, '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"d","x":' + '{"a":'.repeat(1023) + '1' + '}'.repeat(1023) + '}}{"execute":"query-jobs","id":"after"}')],
  ['2.1M tokens in one request (past QEMU\'s token count)', b(NEG, '{"execute":"query-jobs","id":[' + '0,'.repeat(1_050_000) + '0]}{"execute":"query-jobs","id":"after"}')],
  ['node-name of odd characters', b(NEG, ['"a b"', '"-a"', '"a.b"', '"#block1"', '""', '"' + 'n'.repeat(32) + '"', '"' + 'n'.repeat(31) + '"', '"\\u00e9"'].map((n, i) => `{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":${n}},"id":${i}}`).join(''))],
];

/**
 * Round 6 (`--round 6`): the exchanges of clients QEMU users run, byte for byte: libvirt's monitor
 * (`virsh qemu-monitor-command` passes a command through with libvirt's `id`s, `--hmp` as
 * human-monitor-command, `--pretty` input over several lines, each command ended by CRLF), and
 * a person at `socat - UNIX-CONNECT:` (a request typed over several lines, blank lines, a typo
 * then the fix, Ctrl-D in the line), OOB with the same id twice and a request in flight.
 */
export const CASES6: [string, Buffer][] = [
  ['libvirt: ids libvirt-N, CRLF after each', b('{"execute":"qmp_capabilities","id":"libvirt-1"}\r\n{"execute":"query-block-jobs","id":"libvirt-2"}\r\n{"execute":"query-named-block-nodes","arguments":{"flat":true},"id":"libvirt-3"}\r\n{"execute":"query-version","id":"libvirt-4"}\r\n')],
  ['virsh qemu-monitor-command --hmp (human-monitor-command)', b('{"execute":"qmp_capabilities","id":"libvirt-1"}\r\n{"execute":"human-monitor-command","arguments":{"command-line":"info block"},"id":"libvirt-2"}\r\n')],
  ['virsh qemu-monitor-command: a passthrough with its own id, and a bad one', b('{"execute":"qmp_capabilities","id":"libvirt-1"}\r\n{"execute":"query-jobs","id":"mine"}\r\n{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"v0"},"id":"libvirt-3"}\r\n{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"v0"},"id":"libvirt-4"}\r\n{"execute":"blockdev-del","arguments":{"node-name":"v0"},"id":"libvirt-5"}\r\n')],
  ['pretty-printed requests over several lines (virsh --pretty, a person typing)', b('{\n  "execute": "qmp_capabilities"\n}\n{\n  "execute": "query-jobs",\n  "id": "libvirt-2"\n}\r\n{\r\n\t"execute":\r\n"query-version"\r\n}\r\n')],
  ['socat: blank lines, a typo then the fix, Ctrl-D and Ctrl-C bytes in a line', b('\n\n{"execute":"qmp_capabilities"}\n\n{"execute":"query-jbos"}\n{"execute":"query-jobs"}\n', [4], '\n{"execute":"query-jobs",', [3], '"id":1}\n{"execute":"query-jobs","id":2}\n')],
  ['socat: a request left unfinished then an escape the shell sent (arrow up)', b(NEG, '\n{"execute":"query-jo', [0x1b, 0x5b, 0x41], 'bs"}\n{"execute":"query-jobs","id":"after"}\n')],
  ['OOB: the same id twice, and exec-oob while an execute is queued (the last two: the same race)', b(NEG_OOB, '{"exec-oob":"query-jobs","id":7}{"exec-oob":"query-jobs","id":7}{"execute":"query-jobs","id":8}{"exec-oob":"nope","id":8}{"execute":"query-version","id":9}')],
  ['exec-oob behind an execute, oob negotiated (a race in QSD: handle_qmp_command dispatches it as parsed, the main loop the execute)', b(NEG_OOB, '{"execute":"query-jobs","id":1}{"exec-oob":"query-jobs","id":2}{"execute":"query-version","id":3}{"exec-oob":"query-version","id":4}')],
  ['exec-oob behind an execute, oob not negotiated (the monitor is suspended: in order)', b(NEG, '{"execute":"query-jobs","id":1}{"exec-oob":"query-jobs","id":2}{"execute":"query-version","id":3}{"exec-oob":"query-version","id":4}')],
  ['OOB negotiated but only execute used (QMPClient with no oob=True)', b(NEG_OOB, '{"execute":"query-jobs","id":1}{"execute":"nope","id":2}{"execute":"query-version"}')],
];

function collect(path: string, bytes: Buffer, quietMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(path);
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    let greeted = false;
    const finish = () => { clearTimeout(timer); s.destroy(); resolve(text); };
    const arm = () => { clearTimeout(timer); timer = setTimeout(finish, quietMs); };
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (!greeted && text.includes('\r\n')) { greeted = true; s.write(bytes); }
      arm();
    });
    s.on('error', () => finish());
    s.on('close', () => finish());
    setTimeout(finish, 240_000);
  });
}

const normalise = (text: string) => text
  .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/g, '"timestamp": T')
  .replace(/"package": "[^"]*"/g, '"package": P')
  .replace(/"qemu": \{"micro": \d+, "minor": \d+, "major": \d+\}/g, '"qemu": V')
  .replace(/#block\d+/g, '#blockN');

async function waitFor(path: string) { for (let i = 0; i < 600 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50)); }

const qsdBin = v10 ? join(homedir(), '.cache/blockgraph/qemu-10.0/usr/bin/qemu-storage-daemon') : 'qemu-storage-daemon';
let qsd: ChildProcess | undefined;
let model: ChildProcess | undefined;
const qsdSock = join(root, 'qsd.sock');
const modelSock = join(root, 'model.sock');
const startQsd = async () => {
  rmSync(qsdSock, { force: true });
  qsd = spawn(qsdBin, ['--chardev', `socket,path=${qsdSock},server=on,wait=off,id=m`, '--monitor', 'm'], { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] });
  await waitFor(qsdSock);
};
await startQsd();
model = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(root, 'db'), '--socket', modelSock, ...(v10 ? ['--qemu', '10.0'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
let modelErr = '';
model.stderr!.on('data', (d) => { modelErr += d; });
await waitFor(modelSock);

let differ = 0;
const round = process.argv.includes('--round') ? process.argv[process.argv.indexOf('--round') + 1] : undefined;
const cases = round === '4' ? CASES4 : round === '6' ? CASES6 : CASES;
for (const [i, [label, bytes]] of cases.entries()) {
  if (onlyArg !== undefined && onlyArg !== i) continue;
  // QSD's lexer takes tens of seconds over a megabyte (53 s for the 100 000-member object): a
  // big case waits for a long silence
  const quiet = bytes.length > 100_000 ? 75_000 : 400;
  const [a, m] = await Promise.all([collect(qsdSock, bytes, quiet), collect(modelSock, bytes, quiet)]);
  const na = normalise(a).split('\r\n'), nm = normalise(m).split('\r\n');
  const same = na.length === nm.length && na.every((l, j) => l === nm[j]);
  if (!same) differ++;
  console.log(`${same ? 'same' : 'DIFF'} ${String(i).padStart(2)} ${label} (${na.length - 1} lines)`);
  if (!same || show) {
    for (let j = 0, shown = 0; j < Math.max(na.length, nm.length) && shown < 20; j++) {
      if (na[j] !== nm[j] || show) shown++, console.log(`   ${j}: qsd   ${(na[j] ?? '<nothing>').slice(0, 300)}\n   ${j}: model ${(nm[j] ?? '<nothing>').slice(0, 300)}`);
    }
  }
  await new Promise((r) => setTimeout(r, 300)); // a QSD that aborts on the case has exited by now
  if (qsd!.exitCode !== null || qsd!.signalCode !== null) { console.log(`   QSD exited (${qsd!.exitCode}); restarting`); await startQsd(); }
  if (model.exitCode !== null) { console.log(`   MODEL EXITED (${model.exitCode}): ${modelErr.slice(-2000)}`); differ++; break; }
}
qsd?.kill();
model.kill('SIGTERM');
await new Promise((r) => model!.once('exit', r));
rmSync(root, { recursive: true, force: true });
console.log(`\n${cases.length} cases, ${differ} differ`);
process.exitCode = differ ? 1 : 0;
