import { describe, expect, it } from 'vitest';
import { cpuLimit, workerCount } from '../../../src/server/cpu-limit.js';

const files = (map: Record<string, string>) => (file: string) => map[file];

describe('cpuLimit', () => {
  it('takes the cgroup v2 quota, rounded up, no more than the CPUs it may run on', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 8)).toBe(2);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }), 8)).toBe(1);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '800000 100000' }), 2)).toBe(2);
  });

  it('uses the CPUs it may run on when there is no quota', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }), 4)).toBe(4);
    expect(cpuLimit(files({}), 3)).toBe(3);
  });

  it('reads cgroup v1 when v2 is absent', () => {
    const v1 = files({
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    expect(cpuLimit(v1, 16)).toBe(1);
    const unlimited = files({
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    expect(cpuLimit(unlimited, 16)).toBe(16);
  });

  it('never answers less than one', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '1000 100000' }), 1)).toBe(1);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'garbage' }), 0)).toBe(1);
  });
});

describe('workerCount', () => {
  it('is the configured number, or the CPU limit for auto', () => {
    expect(workerCount(3, () => 8)).toBe(3);
    expect(workerCount('auto', () => 2)).toBe(2);
  });
});
