#!/usr/bin/env python3
# An <emulator> for libvirt that runs blockgraph instead of QEMU for the domain (docs/vm.md
# "libvirt driving blockgraph"): an exploration, not part of npm test.
#
#   <emulator>/path/to/scripts/libvirt-emulator.sh</emulator>   (the .sh execs this file)
#
# - libvirt's capability probe (`-machine none`, QMP on a socket) and `-version`/`-help` run the
#   real qemu-system-x86_64 (BLOCKGRAPH_REAL_QEMU, default /usr/bin/qemu-system-x86_64);
# - the domain: the images under the disks' directory go into blockgraph's catalogue as
#   qemu-img info sees them (relative names, as scenarios have them), the command line's iothreads,
#   root ports, virtio-scsi controllers, -blockdev and block -device become one
#   x-blockgraph-machine, and `blockgraph qmp` (stdio, its own store under BLOCKGRAPH_EMU_DIR)
#   answers libvirt on the monitor socket libvirt passes (-chardev socket,id=charmonitor,fd=N):
#   this process accepts libvirt's connection on that fd and relays, rewriting the image
#   directory's absolute paths to relative names on the way in and back on the way out. Nothing is
#   answered but by blockgraph: the machine-level QMP libvirt sends (query-migrate-capabilities,
#   the vCPU's qom-get…) comes from the model, with the machine's facts recorded from the real
#   QEMU (oracle/machine-facts/); jobs run by themselves (--run-jobs) and files libvirt creates on
#   the host are probed when named (--image-dir).
import json, os, re, socket, subprocess, sys, threading, time

REAL = os.environ.get('BLOCKGRAPH_REAL_QEMU', '/usr/bin/qemu-system-x86_64')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
argv = sys.argv[1:]
if any(a.startswith('none') for i, a in enumerate(argv) if i and argv[i - 1] == '-machine') or not any(a == '-S' for a in argv):
    os.execv(REAL, [REAL] + argv)

work = os.environ.get('BLOCKGRAPH_EMU_DIR', '/tmp/blockgraph-emulator')
os.makedirs(work, exist_ok=True)
log = open(os.path.join(work, 'emulator.log'), 'a', buffering=1)
def note(*a):
    print(time.strftime('%H:%M:%S'), *a, file=log)
note('argv', json.dumps(argv))

# ---- the command line -------------------------------------------------------------------------
opts = [(argv[i][1:], argv[i + 1]) for i in range(len(argv) - 1) if argv[i] in ('-object', '-device', '-blockdev', '-chardev', '-machine')]
monitor_fd = None
for o, v in opts:
    m = re.match(r'socket,id=charmonitor,fd=(\d+)', v) if o == 'chardev' else None
    if m: monitor_fd = int(m.group(1))
files = [json.loads(v)['filename'] for o, v in opts if o == 'blockdev' and v.startswith('{') and json.loads(v).get('driver') == 'file']
imgdir = os.path.commonpath([os.path.dirname(f) for f in files]) + '/' if files else '/'
def rel(x):
    if isinstance(x, str): return x.replace(imgdir, '')
    if isinstance(x, list): return [rel(v) for v in x]
    if isinstance(x, dict): return {k: rel(v) for k, v in x.items()}
    return x
def unrel(text):
    # replies name files relative to the catalogue: give libvirt its absolute paths back
    return re.sub(r'("(?:filename|file|backing-filename|backing_file|backing-file)": ")(?!/)', lambda m: m.group(1) + imgdir, text)
# the machine type: libvirt's versioned q35 (pc-q35-7.2) or i440fx (pc-i440fx-7.2, pc); -no-acpi on pc
mtype = next((v.split(',')[0] for o, v in opts if o == 'machine'), 'q35')
machine = 'pc' if mtype == 'pc' or mtype.startswith('pc-i440fx') else 'q35'
vm = {'version': 1, 'acpi-pci-hotplug': True} if machine == 'q35' else {'version': 1, 'machine': 'pc', **({'acpi': False} if '-no-acpi' in argv else {})}
# -name guest=NAME (query-name) and the monitor's chardev (query-chardev: QEMU names a listening
# unix socket "unix:PATH,server=on", the path libvirt bound the fd it passes to)
for i, a in enumerate(argv[:-1]):
    if a == '-name':
        m = re.match(r'(?:guest=)?([^,]+)', argv[i + 1])
        if m: vm['name'] = m.group(1)
if monitor_fd is not None:
    vm['chardevs'] = [{'label': 'charmonitor', 'filename': 'unix:%s,server=on' % socket.socket(fileno=os.dup(monitor_fd)).getsockname(), 'frontend-open': True}]
BLOCK = {'virtio-blk-pci', 'scsi-hd', 'scsi-cd', 'ide-hd', 'ide-cd'}
for o, v in opts:
    if not v.startswith('{'): continue
    j = json.loads(v)
    if o == 'object' and j.get('qom-type') == 'iothread': vm.setdefault('iothreads', []).append(j['id'])
    elif o == 'device' and j.get('driver') == 'pcie-root-port': vm.setdefault('root-ports', []).append(j['id'])
    elif o == 'device' and j.get('driver') == 'virtio-scsi-pci':
        vm.setdefault('scsi-controllers', []).append({'id': j['id'], **({'iothread': j['iothread']} if 'iothread' in j else {})})
    elif o == 'blockdev': vm.setdefault('blockdevs', []).append(rel(j))
    elif o == 'device' and j.get('driver') in BLOCK: vm.setdefault('devices', []).append(rel(j))

# the images: every file in the disks' directory, backing files first
images = []
for f in sorted(os.listdir(imgdir)):
    p = os.path.join(imgdir, f)
    if not os.path.isfile(p) or f.endswith('.sock'): continue
    info = json.loads(subprocess.run(['/usr/bin/qemu-img', 'info', '-U', '--output=json', p], capture_output=True, text=True).stdout or '{}')
    if not info: continue
    im = {'file': f, 'format': info['format'], 'size': str(info['virtual-size'])}
    if info.get('backing-filename'):
        im['backing'] = rel(info['backing-filename']); im['backing-format'] = info.get('backing-filename-format', 'qcow2')
    images.append(im)
done, order = set(), []
while len(order) < len(images):
    for im in images:
        if im['file'] not in done and ('backing' not in im or im['backing'] in done or im['backing'] not in {x['file'] for x in images}):
            order.append(im); done.add(im['file'])

# ---- blockgraph -------------------------------------------------------------------------------
db = os.path.join(work, 'db-%d' % os.getpid())
# --run-jobs: jobs run by themselves as QEMU's do; --image-dir: files libvirt makes on the host
# (qemu-img create of a snapshot overlay) are probed when a command names them (cli/live-host.ts)
bg = subprocess.Popen([os.environ.get('BLOCKGRAPH_NODE', '/usr/bin/node'), '--import', 'tsx', os.path.join(REPO, 'cli/main.ts'), 'qmp', '--db', db,
                       '--run-jobs', '--image-dir', imgdir],
                      cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
greeting = bg.stdout.readline()
def call(cmd, args=None):
    bg.stdin.write(json.dumps({'execute': cmd, **({'arguments': args} if args is not None else {})}) + '\n')
    while True:
        r = json.loads(bg.stdout.readline())
        if 'return' in r or 'error' in r: return r
call('qmp_capabilities')
for im in order:
    note('image', json.dumps(im), json.dumps(call('x-blockgraph-image-create', im)))
r = call('x-blockgraph-machine', vm)
note('machine', json.dumps(r))
if 'error' in r:
    print('blockgraph refused the machine: ' + r['error']['desc'], file=sys.stderr)
    sys.exit(1)
# the machine's facts the model has no mechanism for (the vCPU's properties…), recorded from the
# real QEMU by `blockgraph qmp machine-facts` (oracle/machine-facts/), logged as an input
cpu = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == '-cpu'), 'qemu64')
facts = os.path.join(REPO, 'oracle', 'machine-facts', '7.2', '%s-%s.json' % (machine, cpu))
if os.path.exists(facts):
    r = call('x-blockgraph-machine-facts', json.load(open(facts)))
    note('machine facts', facts, json.dumps(r))
else:
    note('no machine facts for', machine, cpu, '(blockgraph qmp machine-facts --machine', machine, '--cpu', cpu, '--out', facts + ')')

# ---- libvirt's monitor: accept on its fd, relay --------------------------------------------------
lsock = socket.socket(fileno=monitor_fd)
conn, _ = lsock.accept()
note('libvirt connected')
conn.sendall((greeting.rstrip('\n') + '\r\n').encode())  # libvirt splits QMP lines at \r\n
def from_libvirt():
    buf = b''
    while True:
        data = conn.recv(65536)
        if not data: break
        buf += data
        while b'\n' in buf or buf.strip().endswith(b'}'):
            try:
                text = buf.decode()
                dec = json.JSONDecoder(); obj, end = dec.raw_decode(text.lstrip())
            except ValueError:
                break
            buf = text.lstrip()[end:].encode()
            note('<<', json.dumps(obj)[:400])
            if obj.get('execute') == 'qmp_capabilities':
                # the machine's own session already negotiated: answer as QEMU would, once
                conn.sendall((json.dumps({'return': {}, **({'id': obj['id']} if 'id' in obj else {})}) + '\r\n').encode())
                continue
            bg.stdin.write(json.dumps(rel(obj)) + '\n')
    bg.kill()
def to_libvirt():
    for line in bg.stdout:
        note('>>', line.strip()[:400])
        conn.sendall((unrel(line.rstrip('\n')) + '\r\n').encode())
    conn.close()
threading.Thread(target=from_libvirt, daemon=True).start()
to_libvirt()
