# QEMU 7.2's own python clients, unchanged, against a QMP socket: prints one JSON document of what
# they saw, so the same run against qemu-storage-daemon and `blockgraph qmp --socket` can be
# compared (scripts/hostile-pyclients.sh). PYTHONPATH must hold QEMU's python/ directory.
import asyncio, json, sys, subprocess, os
from qemu.qmp import QMPClient, ExecuteError
from qemu.qmp.legacy import QEMUMonitorProtocol

path = sys.argv[1]
out = {}

async def client():
    c = QMPClient('hostile')
    await c.connect(path)
    out['greeting_caps'] = c.greeting.QMP.capabilities
    out['version'] = c.greeting.QMP.version['qemu']
    # events while commands run: a job's events arrive between replies
    events = []
    async def listen():
        async for ev in c.events:
            events.append([ev['event'], sorted(ev['timestamp'].keys()), ev.get('data', {}).get('status')])
    task = asyncio.create_task(listen())
    await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 's0', 'size': 1048576})
    await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 't0', 'size': 1048576})
    r = await c.execute('blockdev-mirror', {'job-id': 'm0', 'device': 's0', 'target': 't0', 'sync': 'full'})
    out['mirror'] = r
    for _ in range(50):
        jobs = await c.execute('query-jobs')
        if jobs and jobs[0]['status'] in ('ready', 'concluded'): break
        await asyncio.sleep(0.1)
    await c.execute('job-cancel', {'id': 'm0'})
    for _ in range(50):
        if not await c.execute('query-jobs'): break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    task.cancel()
    out['events'] = events
    errs = []
    for cmd, args in [('nope', None), ('query-jobs', {'x': 1}), ('qmp_capabilities', None), ('blockdev-del', {'node-name': 'zz'})]:
        try:
            await c.execute(cmd, args)
        except ExecuteError as e:
            errs.append([e.error.error.class_, e.error.error.desc])
    out['errors'] = errs
    await c.disconnect()
    # reconnect on the same client object
    await c.connect(path)
    out['reconnect'] = (await c.execute('query-named-block-nodes', {'flat': True}))[0]['node-name']
    await c.disconnect()
    # oob negotiated (QMPClient's negotiate offers it when the greeting does); exec-oob refused
    c = QMPClient('hostile-oob')
    await c.connect(path)
    try:
        await c.execute('query-jobs', oob=True)
        out['oob'] = 'accepted'
    except ExecuteError as e:
        out['oob'] = [e.error.error.class_, e.error.error.desc]
    await c.disconnect()

asyncio.run(client())
asyncio.set_event_loop(asyncio.new_event_loop())
q = QEMUMonitorProtocol(path)
out['legacy_greeting_keys'] = sorted(q.connect().keys())
out['legacy_cmd'] = q.cmd('query-jobs')
out['legacy_cmd_obj_bad'] = q.cmd_obj({'execute': 'query-jobs', 'arguments': {'y': 1}, 'id': 'legacy'})
out['legacy_events'] = [e['event'] for e in q.get_events(wait=False)]
# round 8: `execute` with an id of every JSON type, and exec-oob (QSD 7.2 offers oob, no command allows it)
# (qemu.qmp's _raw takes only a string id: the others are refused client-side, TypeError; sent raw by hostile-qmp-diff.ts case 12)
def legacy_id(i):
    try:
        return q.cmd_obj({'execute': 'query-jobs', 'id': i})
    except TypeError as e:
        return ['TypeError', str(e)]
out['legacy_ids'] = [legacy_id(i) for i in [None, True, False, 0, -1, 1.5, 'x', '', [], [1, 'a'], {}, {'k': [None]}]]
out['legacy_exec_oob'] = q.cmd_obj({'exec-oob': 'query-jobs', 'id': 'oob'})
q.close()  # disconnect without quit: the next client is served
q = QEMUMonitorProtocol(path)
q.connect()
out['legacy_after_close'] = q.cmd_obj({'execute': 'query-version'})['return']['qemu']  # cmd_obj: QEMU 10's cmd() returns the result itself
q.close()
q = QEMUMonitorProtocol(path)
q.connect(negotiate=False)
out['legacy_before_neg'] = q.cmd_obj({'execute': 'query-version'})
q.close()

shell = os.path.join(os.environ['PYTHONPATH'].split(':')[0], 'qemu', 'qmp', 'qmp_shell.py')
def sh(args, text):
    r = subprocess.run([sys.executable, shell, *args, path], input=text, capture_output=True, text=True, timeout=60)
    return [r.returncode, r.stdout.replace('\r', ''), r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else []]
out['shell'] = sh([], 'query-jobs\nblockdev-add driver=null-co node-name=sh0\nblockdev-add driver=null-co node-name=sh0\nnope a=1\nbad syntax ==\n{"execute":"query-jobs"}\n')
out['shell_pretty'] = sh(['-p'], 'query-named-block-nodes flat=true\n')
out['shell_hmp'] = sh(['-H'], 'info block\n')
out['shell_transaction'] = sh([], 'transaction( block-dirty-bitmap-add node=sh0 name=b0, block-dirty-bitmap-add node=sh0 name=b0 )\n')
print(json.dumps(out, indent=1, sort_keys=True))
