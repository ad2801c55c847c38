// The thread pool's default size: the CPUs the process may use, from its affinity mask and its
// cgroup's CPU quota (v1 or v2, the tightest from its cgroup up), not the machine's core count.
// A pool with more threads than that has its workers wait for each other's time slices.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

import { native, nativeInfo } from '../src/native';

const addon = native();
const addonPath = nativeInfo().path;
const cpus = os.availableParallelism();

interface ChildInfo {
  threads: number;
  cpus: { affinity: number; quota: number | null };
  node: number;
  mean: number;
}

// A fresh process (the pool's size is set when it starts), run through bash: `setup` runs in
// the shell first (joining a cgroup), `wrap` runs node (taskset). It runs a kernel too, on the
// pool it got.
const child = (setup: string, wrap = '', env: Record<string, string> = {}): ChildInfo => {
  const r = spawnSync('bash', ['-c', `${setup} exec ${wrap} "${process.execPath}" -e "$CODE"`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      MIXLOSS_NUM_THREADS: '',
      ...env,
      CODE: `
      const a = require(${JSON.stringify(addonPath)});
      const B = 64, C = 5000, info = a.info();
      const st = new Float32Array(B * info.statsPerRow), rl = new Float32Array(B);
      const mean = a.forward({ logits: new Float32Array(B * C), rows: B, classes: C, labels: new Int32Array(B), dense: false,
        loss: { kind: 'mixed', alpha: 1, beta: 0 }, stats: st, rowLoss: rl }) / B;
      console.log(JSON.stringify({ threads: info.threads, cpus: info.cpus, node: require('os').availableParallelism(), mean }));`,
    },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as ChildInfo;
};

const hasTaskset = spawnSync('bash', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;

describe('the default thread count: the CPUs this process may use', () => {
  it('this process: the pool has min(affinity, ⌈quota⌉) threads, the affinity as Node counts it', () => {
    const info = child('');
    expect(info.cpus.affinity).toBe(info.node);
    const want = info.cpus.quota === null ? info.cpus.affinity : Math.min(info.cpus.affinity, Math.max(1, Math.ceil(info.cpus.quota)));
    expect(info.threads).toBe(want);
    expect(info.mean).toBeCloseTo(Math.log(5000), 4);
  });

  it.skipIf(!hasTaskset || cpus < 2)('the affinity mask (taskset): one CPU, one thread; MIXLOSS_NUM_THREADS still wins', () => {
    const one = child('', 'taskset -c 0');
    expect(one.cpus.affinity).toBe(1);
    expect(one.node).toBe(1);
    expect(one.threads).toBe(1);
    expect(one.mean).toBeCloseTo(Math.log(5000), 4);
    const two = child('', 'taskset -c 0,1');
    expect(two.cpus.affinity).toBe(2);
    expect(two.threads).toBe(two.cpus.quota === null ? 2 : Math.min(2, Math.ceil(two.cpus.quota)));
    expect(child('', 'taskset -c 0', { MIXLOSS_NUM_THREADS: '3' }).threads).toBe(3);
  });

  // A real cgroup with a CPU quota, where this machine lets the test make one (root, a cgroup
  // v1 cpu hierarchy, or a v2 one whose cgroup hands the cpu controller to its children). The
  // processes join leaf cgroups (v2 allows no process in a cgroup that has controlled children).
  const cgroup = cpuCgroupBase();
  it.skipIf(cgroup === null)('a cgroup CPU quota (a real cgroup): 0.5 CPU, one thread; a parent limits its child', () => {
    const { base, v2 } = cgroup as { base: string; v2: boolean };
    const dir = path.join(base, `mixloss-test-${process.pid}`);
    const leaf = path.join(dir, 'leaf'),
      inner = path.join(dir, 'inner');
    const setQuota = (d: string, cpusWorth: number | null) =>
      v2
        ? fs.writeFileSync(path.join(d, 'cpu.max'), cpusWorth === null ? 'max 100000' : `${Math.round(cpusWorth * 100000)} 100000`)
        : fs.writeFileSync(path.join(d, 'cpu.cfs_quota_us'), cpusWorth === null ? '-1' : String(Math.round(cpusWorth * 100000)));
    const join = (d: string) => `echo $$ > "${path.join(d, 'cgroup.procs')}";`;
    fs.mkdirSync(dir);
    try {
      if (v2) fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+cpu');
      fs.mkdirSync(leaf);
      fs.mkdirSync(inner);
      const affinity = child('').cpus.affinity;
      // The process's own cgroup.
      setQuota(inner, 0.5);
      const half = child(join(inner));
      expect(half.cpus.quota).toBeCloseTo(0.5, 12);
      expect(half.threads).toBe(1);
      expect(half.mean).toBeCloseTo(Math.log(5000), 4);
      // Its parent's, for a cgroup with none; rounded up: 1.5 CPUs' worth is 2 threads (where
      // the affinity allows 2). (cgroup v1 refuses a child quota above its parent's.)
      setQuota(dir, 1.5);
      const more = child(join(leaf));
      expect(more.cpus.quota).toBeCloseTo(1.5, 12);
      expect(more.threads).toBe(Math.min(2, affinity));
      // The tighter of a cgroup's and its parent's.
      expect(child(join(inner)).cpus.quota).toBeCloseTo(0.5, 12);
      setQuota(inner, null);
      setQuota(dir, 0.5);
      expect(child(join(leaf))).toMatchObject({ threads: 1, cpus: { quota: 0.5 } });
      expect(child(join(inner))).toMatchObject({ threads: 1, cpus: { quota: 0.5 } });
      setQuota(dir, null);
      setQuota(inner, 2.5);
      const inner25 = child(join(inner));
      expect(inner25.cpus.quota).toBeCloseTo(2.5, 12);
      expect(inner25.threads).toBe(Math.min(3, affinity));
      expect(child(join(leaf)).cpus.quota).toBeNull();
    } finally {
      for (const d of [leaf, inner, dir]) if (fs.existsSync(d)) fs.rmdirSync(d);
    }
  });
});

// A directory laid out as / (proc/self/mountinfo, proc/self/cgroup, the cgroup files), for the
// layouts a machine does not have: cgroup v2 with and without a namespace, v1 beside it, a v1
// hierarchy whose root is the container's own cgroup, an escaped mount point.
function fakeRoot(mountinfo: string[], cgroups: string[], files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mixloss-cgroup-'));
  fs.mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  fs.writeFileSync(path.join(root, 'proc/self/mountinfo'), mountinfo.join('\n') + '\n');
  fs.writeFileSync(path.join(root, 'proc/self/cgroup'), cgroups.join('\n') + '\n');
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text + '\n');
  }
  return root;
}

const V2_MOUNT = '30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate';
const OTHER_MOUNTS = [
  '22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '25 22 0:23 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
];

describe('cgroup layouts, read under a directory laid out as /', () => {
  const quota = (mountinfo: string[], cgroups: string[], files: Record<string, string>) => {
    const root = fakeRoot([...OTHER_MOUNTS, ...mountinfo], cgroups, files);
    try {
      return addon.cgroupCpuQuota(root);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  };

  it('cgroup v2 (docker --cpus with a cgroup namespace): cpu.max at the top, "max" is none', () => {
    expect(quota([V2_MOUNT], ['0::/'], { 'sys/fs/cgroup/cpu.max': '150000 100000' })).toBeCloseTo(1.5, 12);
    expect(quota([V2_MOUNT], ['0::/'], { 'sys/fs/cgroup/cpu.max': 'max 100000' })).toBe(0);
    expect(quota([V2_MOUNT], ['0::/'], { 'sys/fs/cgroup/cpu.max': '50000 50000' })).toBeCloseTo(1, 12);
    expect(quota([V2_MOUNT], ['0::/'], {})).toBe(0);
  });

  it('cgroup v2, a cgroup below the top (a Kubernetes pod): the tightest from it up to the mount; none from outside it', () => {
    const cgroups = ['0::/kubepods/pod1/c1'];
    expect(
      quota([V2_MOUNT], cgroups, {
        'sys/fs/cgroup/kubepods/cpu.max': '800000 100000',
        'sys/fs/cgroup/kubepods/pod1/cpu.max': '200000 100000',
        'sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000',
      }),
    ).toBeCloseTo(2, 12);
    expect(
      quota([V2_MOUNT], cgroups, {
        'sys/fs/cgroup/kubepods/pod1/cpu.max': '200000 100000',
        'sys/fs/cgroup/kubepods/pod1/c1/cpu.max': '25000 100000',
      }),
    ).toBeCloseTo(0.25, 12);
    // Another cgroup's limit (a sibling, or the same name elsewhere) is not this process's.
    expect(
      quota([V2_MOUNT], cgroups, { 'sys/fs/cgroup/kubepods/pod2/cpu.max': '10000 100000', 'sys/fs/cgroup/c1/cpu.max': '10000 100000' }),
    ).toBe(0);
    // A cgroup outside the namespace's root ("/../…"): not under the mount, nothing read.
    expect(quota([V2_MOUNT], ['0::/../other'], { 'sys/fs/cgroup/cgroup.controllers': 'cpu', 'sys/fs/other/cpu.max': '10000 100000' })).toBe(
      0,
    );
  });

  it('cgroup v1: the cpu controller (joined with cpuacct or not), its root the container cgroup', () => {
    const cpuMount = '31 30 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct';
    const cgroups = ['12:memory:/docker/abc', '4:cpu,cpuacct:/docker/abc', '0::/'];
    const files = { 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000', 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000' };
    expect(quota([cpuMount], cgroups, files)).toBeCloseTo(0.5, 12);
    expect(quota([cpuMount], cgroups, { ...files, 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1' })).toBe(0);
    // A hierarchy of cpuacct alone has no quota, whatever files are there.
    const acct = '31 30 0:28 /docker/abc /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct';
    expect(
      quota([acct], ['4:cpuacct:/docker/abc'], {
        'sys/fs/cgroup/cpuacct/cpu.cfs_quota_us': '50000',
        'sys/fs/cgroup/cpuacct/cpu.cfs_period_us': '100000',
      }),
    ).toBe(0);
    // A cgroup below the container's: the path under the mount is what follows the mount's root
    // (its own quota, 0.25, read; not a directory named after the whole path, 0.1).
    const sub = {
      ...files,
      'sys/fs/cgroup/cpu,cpuacct/sub/cpu.cfs_quota_us': '25000',
      'sys/fs/cgroup/cpu,cpuacct/sub/cpu.cfs_period_us': '100000',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/sub/cpu.cfs_quota_us': '10000',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/sub/cpu.cfs_period_us': '100000',
    };
    expect(quota([cpuMount], ['4:cpu,cpuacct:/docker/abc/sub'], sub)).toBeCloseTo(0.25, 12);
    // The process's cgroup outside what the mount shows: no reading from it.
    expect(quota([cpuMount], ['4:cpu,cpuacct:/other'], files)).toBe(0);
  });

  it('v1 and v2 side by side (a hybrid host): the tighter; an escaped mount point', () => {
    const cpuMount = '31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu';
    const v2 = '40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw';
    const cgroups = ['1:cpu:/job', '0::/job'];
    expect(
      quota([cpuMount, v2], cgroups, {
        'sys/fs/cgroup/cpu/job/cpu.cfs_quota_us': '300000',
        'sys/fs/cgroup/cpu/job/cpu.cfs_period_us': '100000',
        'sys/fs/cgroup/unified/job/cpu.max': '125000 100000',
      }),
    ).toBeCloseTo(1.25, 12);
    const spaced = '31 30 0:28 / /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu';
    expect(
      quota([spaced], ['1:cpu:/'], {
        'sys/fs/cgroup/my cpu/cpu.cfs_quota_us': '75000',
        'sys/fs/cgroup/my cpu/cpu.cfs_period_us': '100000',
      }),
    ).toBeCloseTo(0.75, 12);
  });

  it('unreadable or malformed files: no quota, never an error', () => {
    expect(addon.cgroupCpuQuota('/nonexistent-mixloss-root')).toBe(0);
    expect(quota(['garbage', '1 2 3 - cgroup2'], ['no colons', '0::'], {})).toBe(0);
    expect(quota([V2_MOUNT], ['0::/'], { 'sys/fs/cgroup/cpu.max': 'lots' })).toBe(0);
    expect(quota([V2_MOUNT], ['0::/'], { 'sys/fs/cgroup/cpu.max': '100000 0' })).toBe(0);
    expect(() => (addon.cgroupCpuQuota as (root: unknown) => number)(3)).toThrow(/root must be a string/);
  });
});

// Where this process may make a cgroup with a CPU quota: its own cgroup in the v1 cpu hierarchy,
// or in a v2 hierarchy where that cgroup hands the cpu controller to its children. null
// elsewhere (not root, a read-only cgroup file system, no cpu controller).
function cpuCgroupBase(): { base: string; v2: boolean } | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  let mountinfo: string, cgroups: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    cgroups = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return null;
  }
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (!after) continue;
    const [fstype, , superOptions] = after.split(' ');
    const [, , , mountRoot, mountPoint] = before.split(' ');
    const v2 = fstype === 'cgroup2';
    if (!v2 && !(fstype === 'cgroup' && superOptions.split(',').includes('cpu'))) continue;
    const own = cgroups
      .split('\n')
      .map((l) => l.split(':'))
      .find(([id, controllers]) => (v2 ? id === '0' && controllers === '' : (controllers ?? '').split(',').includes('cpu')));
    if (!own || mountRoot !== '/') continue;
    const base = path.join(mountPoint, own.slice(2).join(':'));
    try {
      fs.accessSync(base, fs.constants.W_OK);
      if (v2 && !fs.readFileSync(path.join(base, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('cpu')) continue;
      if (!v2 && !fs.existsSync(path.join(base, 'cpu.cfs_quota_us'))) continue;
      return { base, v2 };
    } catch {
      // not writable here
    }
  }
  return null;
}
