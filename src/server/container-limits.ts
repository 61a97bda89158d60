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
 * The CPU limit of this process's container (cgroup quota, rounded up, at least 1), no more than
 * the CPUs it may be scheduled on (affinity, e.g. taskset); undefined when there is no quota.
 */
export function cpuLimit(
  read: ReadText = readText,
  parallelism: number = os.availableParallelism(),
): number | undefined {
  const quota = cgroupCpus(read);
  return quota === undefined ? undefined : Math.max(1, Math.min(parallelism, Math.ceil(quota)));
}

/** cgroup v2 `memory.max` ("max" or bytes), else v1's limit (a huge number means none). */
export function memoryLimitBytes(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/memory.max')?.trim();
  const raw = v2 ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes')?.trim();
  const bytes = Number(raw);
  // v1 reports "no limit" as the largest page-aligned 64-bit number.
  return raw && Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60 ? bytes : undefined;
}

const MiB = 1024 * 1024;
/**
 * Resident memory after sustained distinct-token churn (bench/README.md, memory-churn): one
 * process ~136 MiB; with workers, the primary ~80 MiB and each worker ~125 MiB. Budgets round
 * those up, so `auto` never forks more processes than the pod's memory limit holds.
 */
export const PRIMARY_BUDGET = 96 * MiB;
export const WORKER_BUDGET = 160 * MiB;

/** How many workers a memory limit holds: 1 (a single process) unless a primary and two fit. */
export function workersForMemory(limitBytes: number | undefined): number {
  if (limitBytes === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor((limitBytes - PRIMARY_BUDGET) / WORKER_BUDGET));
}

export interface Limits {
  readonly cpus: () => number | undefined;
  readonly memoryBytes: () => number | undefined;
}

/**
 * `server.workers`: a number as configured, or `auto` → the CPU limit, no more than the memory
 * limit holds (a pod limited to 256Mi, the chart's default, runs one process however many cores
 * it may use). Without a CPU limit `auto` is 1: the node's CPUs are not the sidecar's to take
 * (each worker is a whole Node process, ~130 MiB, beside Envoy and the app on the same cores).
 */
export function workerCount(
  setting: number | 'auto',
  limits: Limits = { cpus: () => cpuLimit(), memoryBytes: () => memoryLimitBytes() },
): number {
  if (setting !== 'auto') return setting;
  const cpus = limits.cpus();
  return cpus === undefined ? 1 : Math.min(cpus, workersForMemory(limits.memoryBytes()));
}
