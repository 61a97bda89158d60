import { readFileSync } from 'node:fs';
import { procStat as stat, processTree } from '../../test/helpers/processes.js';

/**
 * CPU time and memory of a server and its child processes (the workers of `server.workers` > 1),
 * from /proc (Linux). CPU time spent per check is steadier than checks/s on a busy machine: other
 * processes take wall time, not the server's CPU time.
 */

const TICK_US = 10_000; // USER_HZ is 100 on Linux

/** User + system CPU time of the tree, in microseconds. */
export function treeCpuMicros(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const s = stat(pid);
    if (s) ticks += Number(s[11]) + Number(s[12]);
  }
  return ticks * TICK_US;
}

export interface TreeMemory {
  readonly processes: number;
  /** Sum of every process's resident set (shared pages of the node binary counted each time). */
  readonly rssBytes: number;
  /** The largest single process's resident set. */
  readonly maxRssBytes: number;
  /**
   * What the pod's memory cgroup is charged, near enough: private memory of every process plus
   * the shared file pages (the node binary, libraries) once.
   */
  readonly uniqueBytes: number;
}

function statusKb(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export function treeMemory(root: number): TreeMemory {
  let rss = 0;
  let maxRss = 0;
  let anon = 0;
  let file = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    processes++;
    const r = statusKb(text, 'VmRSS');
    rss += r;
    maxRss = Math.max(maxRss, r);
    anon += statusKb(text, 'RssAnon') + statusKb(text, 'RssShmem');
    file = Math.max(file, statusKb(text, 'RssFile'));
  }
  return { processes, rssBytes: rss, maxRssBytes: maxRss, uniqueBytes: anon + file };
}
