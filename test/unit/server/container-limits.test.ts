import { describe, expect, it } from 'vitest';
import {
  cpuLimit,
  memoryLimitBytes,
  workerCount,
  workersForMemory,
} from '../../../src/server/container-limits.js';

const files = (map: Record<string, string>) => (file: string) => map[file];

describe('cpuLimit', () => {
  it('takes the cgroup v2 quota, rounded up, no more than the CPUs it may run on', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 8)).toBe(2);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }), 8)).toBe(1);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '800000 100000' }), 2)).toBe(2);
  });

  it('is undefined when there is no quota', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }), 4)).toBeUndefined();
    expect(cpuLimit(files({}), 3)).toBeUndefined();
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'garbage' }), 3)).toBeUndefined();
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
    expect(cpuLimit(unlimited, 16)).toBeUndefined();
  });

  it('never answers less than one', () => {
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '1000 100000' }), 1)).toBe(1);
    expect(cpuLimit(files({ '/sys/fs/cgroup/cpu.max': '1000 100000' }), 0)).toBe(1);
  });
});

describe('memoryLimitBytes', () => {
  it.each([
    [{ '/sys/fs/cgroup/memory.max': '201326592\n' }, 192 * 1024 * 1024],
    [{ '/sys/fs/cgroup/memory.max': 'max\n' }, undefined],
    [{ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456' }, 256 * 1024 * 1024],
    [{ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }, undefined],
    [{ '/sys/fs/cgroup/memory.max': 'garbage' }, undefined],
    [{}, undefined],
  ])('%o → %s', (map, bytes) => {
    expect(memoryLimitBytes(files(map))).toBe(bytes);
  });
});

describe('workersForMemory', () => {
  const mi = (n: number) => n * 1024 * 1024;
  it.each([
    [mi(128), 1],
    [mi(192), 1],
    [mi(256), 1],
    [mi(415), 1],
    [mi(416), 2],
    [mi(1024), 5],
  ])('%d bytes hold %d', (limit, workers) => {
    expect(workersForMemory(limit)).toBe(workers);
  });

  it('puts no bound without a limit', () => {
    expect(workersForMemory(undefined)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('workerCount', () => {
  const limits = (cpus: number | undefined, memoryMiB?: number) => ({
    cpus: () => cpus,
    memoryBytes: () => (memoryMiB === undefined ? undefined : memoryMiB * 1024 * 1024),
  });

  it('is the configured number, whatever the limits', () => {
    expect(workerCount(3, limits(8, 128))).toBe(3);
  });

  it('is the CPU limit for auto when memory allows', () => {
    expect(workerCount('auto', limits(2))).toBe(2);
    expect(workerCount('auto', limits(2, 1024))).toBe(2);
  });

  it('is 1 for auto without a CPU limit, whatever the memory', () => {
    expect(workerCount('auto', limits(undefined))).toBe(1);
    expect(workerCount('auto', limits(undefined, 4096))).toBe(1);
  });

  it('is what the memory limit holds for auto when that is fewer', () => {
    expect(workerCount('auto', limits(2, 192))).toBe(1);
    expect(workerCount('auto', limits(8, 512))).toBe(2);
  });
});
