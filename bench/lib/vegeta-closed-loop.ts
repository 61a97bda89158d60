import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { pinned } from './child.js';
import {
  countedResult,
  vegetaBinary,
  writeTargets,
  type HttpLoadResult,
  type HttpTarget,
} from './http-load.js';
import { SampleBuffer } from './latency.js';

const run = promisify(execFile);

/**
 * Closed loop with a different request each time (h2load repeats one): vegeta at `-rate=0` (as
 * fast as answers come back) with exactly `workers` workers, each one request at a time on its
 * own HTTP/1.1 keep-alive connection, sending the targets round-robin. One attack covers warm-up
 * and measurement, so the round-robin runs on unbroken (the distinct-token cases rely on it: a
 * restart would come back to tokens the cache still holds); the measured window is cut from the
 * results afterwards, as the h2-cycler does: requests that started and ended inside it. Every
 * answer of the window is counted by HTTP status (`0`: no answer, vegeta's error).
 */
export async function runVegetaClosed(input: {
  targets: readonly HttpTarget[];
  workers: number;
  seconds: { warmup: number; measured: number };
  /** Path prefix for the targets and results files: a private folder (targets hold tokens). */
  scratch: string;
  cpus?: string | undefined;
}): Promise<HttpLoadResult> {
  const bin = vegetaBinary();
  if (!bin) throw new Error('vegeta is not installed: run `scripts/setup-tools.sh vegeta`');
  const { seconds, workers } = input;
  const targets = writeTargets(input.targets, `${input.scratch}.targets`);
  const results = `${input.scratch}.bin`;
  const csv = `${input.scratch}.csv`;
  const total = seconds.warmup + seconds.measured;
  try {
    const attack = pinned(
      bin,
      [
        'attack',
        `-targets=${targets}`,
        '-rate=0',
        `-workers=${workers}`,
        `-max-workers=${workers}`,
        `-max-connections=${workers}`,
        `-duration=${total}s`,
        '-timeout=5s',
        '-max-body=0',
        `-output=${results}`,
      ],
      input.cpus,
    );
    await run(attack.command, attack.args, { timeout: (total + 60) * 1000 });
    await run(bin, ['encode', '-to=csv', `-output=${csv}`, results], { timeout: 120_000 });
    return window(readFileSync(csv, 'utf8'), seconds);
  } finally {
    for (const f of [targets, results, csv]) rmSync(f, { force: true });
  }
}

/**
 * vegeta's CSV rows begin `timestamp ns,status,latency ns,…` (later fields may be quoted; these
 * three never are). The window starts `warmup` seconds after the first request.
 */
function window(csv: string, seconds: { warmup: number; measured: number }): HttpLoadResult {
  const rows: [start: number, status: string, micros: number][] = [];
  let first = Infinity;
  for (const line of csv.split('\n')) {
    const [ts, status, latency] = line.split(',', 3);
    if (!ts || status === undefined || latency === undefined) continue;
    const start = Number(ts) / 1000; // µs since the epoch
    first = Math.min(first, start);
    rows.push([start, status, Number(latency) / 1000]);
  }
  const from = first + seconds.warmup * 1e6;
  const to = from + seconds.measured * 1e6;
  const statusCodes: Record<string, number> = {};
  const latencies = new SampleBuffer();
  for (const [start, status, micros] of rows) {
    if (start < from || start + micros > to) continue;
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status === '200') latencies.push(micros); // as h2load's: latency of the good answers
  }
  return countedResult('vegeta', statusCodes, latencies.summary(), seconds.measured);
}
