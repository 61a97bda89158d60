import { readFileSync } from 'node:fs';
import os from 'node:os';

export type ReadText = (file: string) => string | undefined;

const readText: ReadText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** cgroup v2 `cpu.max` ("max 100000" or "150000 100000"), else v1's quota and period. */
function cgroupCpus(read: ReadText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) {
    const [quota, period] = v2.map(Number) as [number, number];
    return v2[0] === 'max' || !(quota > 0 && period > 0) ? undefined : quota / period;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * The cores this process may use: the CPU limit of its container (cgroup quota, rounded up), no
 * more than the CPUs it may be scheduled on (affinity, e.g. taskset). At least 1.
 */
export function cpuLimit(
  read: ReadText = readText,
  parallelism: number = os.availableParallelism(),
): number {
  const quota = cgroupCpus(read);
  const limit = quota === undefined ? parallelism : Math.min(parallelism, Math.ceil(quota));
  return Math.max(1, limit);
}

/** `server.workers`: a number as configured, or `auto` → the CPU limit. */
export function workerCount(setting: number | 'auto', limit: () => number = cpuLimit): number {
  return setting === 'auto' ? limit() : setting;
}
