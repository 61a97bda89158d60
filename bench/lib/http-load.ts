import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { pinned } from './child.js';
import { parseSummary, readLatencies } from './h2load.js';
import type { LatencySummary } from './latency.js';
import { h2loadBinary, ROOT } from './paths.js';

const run = promisify(execFile);

/** HTTP load through Envoy, from the generator's side. Every answer is counted by status. */
export interface HttpLoadResult {
  readonly generator: 'vegeta' | 'h2load-h1';
  readonly completed: number;
  /** Answers other than 200, and requests that got no answer (timeouts, resets). */
  readonly failed: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly rps: number;
  readonly latencyMs: LatencySummary;
}

/** vegeta (scripts/setup-tools.sh vegeta), from the project's tools folder. */
export function vegetaBinary(): string | undefined {
  const local = path.join(ROOT, '.tools', 'bin', 'vegeta');
  return existsSync(local) ? local : undefined;
}

export interface HttpTarget {
  /** Default GET. */
  readonly method?: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * vegeta's HTTP target format: per target a request line, then header lines, then a blank line;
 * vegeta sends them round-robin. Private (0600): the headers carry tokens.
 */
export function writeTargets(targets: readonly HttpTarget[], file: string): string {
  const text = targets
    .map((t) =>
      [
        `${t.method ?? 'GET'} ${t.url}`,
        ...Object.entries(t.headers).map(([k, v]) => `${k}: ${v}`),
        '',
      ].join('\n'),
    )
    .join('\n');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

interface VegetaReport {
  latencies: { '50th': number; '90th': number; '99th': number; max: number; mean: number };
  requests: number;
  throughput: number;
  status_codes: Record<string, number>;
}

/**
 * Open loop at a fixed rate: vegeta's constant pacer spaces requests evenly (h2load's --rps
 * sends bursts), over HTTP/1.1 keep-alive connections, as clients of a gateway do. A warm-up
 * attack runs first and is not counted.
 */
export async function runVegeta(
  target: HttpTarget,
  rate: number,
  seconds: { warmup: number; measured: number },
  scratch: string,
): Promise<HttpLoadResult> {
  const bin = vegetaBinary();
  if (!bin) throw new Error('vegeta is not installed: run `scripts/setup-tools.sh vegeta`');
  const targets = writeTargets([target], `${scratch}.targets`);
  const results = `${scratch}.bin`;
  const attack = (duration: number) =>
    run(
      bin,
      [
        'attack',
        `-targets=${targets}`,
        `-rate=${rate}/s`,
        `-duration=${duration}s`,
        '-timeout=5s',
        `-output=${results}`,
      ],
      { timeout: (duration + 60) * 1000 },
    );
  try {
    await attack(seconds.warmup);
    await attack(seconds.measured);
    const { stdout } = await run(bin, ['report', '-type=json', results], { maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout) as VegetaReport;
    const ok = r.status_codes['200'] ?? 0;
    const ms = (ns: number) => ns / 1e6;
    return {
      generator: 'vegeta',
      completed: ok,
      failed: r.requests - ok,
      statusCodes: r.status_codes,
      rps: ok / seconds.measured,
      latencyMs: {
        p50: ms(r.latencies['50th']),
        p90: ms(r.latencies['90th']),
        p99: ms(r.latencies['99th']),
        max: ms(r.latencies.max),
        mean: ms(r.latencies.mean),
      },
    };
  } finally {
    rmSync(targets, { force: true });
    rmSync(results, { force: true });
  }
}

/**
 * Closed loop: h2load over HTTP/1.1, `connections` connections each with one request at a time
 * (pinned to `cpus` when given). h2load repeats the one target and adds its own user-agent.
 */
export async function runH2loadHttp1(
  target: HttpTarget,
  connections: number,
  seconds: { warmup: number; measured: number },
  scratch: string,
  cpus?: string,
): Promise<HttpLoadResult> {
  const logFile = `${scratch}.h2load.log`;
  const args = [
    '--h1',
    '-t',
    '1',
    '-c',
    String(connections),
    '-m',
    '1',
    '-D',
    String(seconds.measured),
    '--warm-up-time',
    String(seconds.warmup),
    '--log-file',
    logFile,
    ...(target.method && target.method !== 'GET' ? ['-H', `:method: ${target.method}`] : []),
    ...Object.entries(target.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    target.url,
  ];
  const cmd = pinned(h2loadBinary(), args, cpus);
  const { stdout } = await run(cmd.command, cmd.args, {
    timeout: (seconds.measured + seconds.warmup + 60) * 1000,
    maxBuffer: 1 << 20,
  });
  parseSummary(stdout); // throws on output it does not understand
  const latencies = readLatencies(logFile);
  // The log holds the measurement window only; status -1 is a stream that got no answer.
  const statusCodes = countStatuses(logFile);
  rmSync(logFile, { force: true });
  return countedResult('h2load-h1', statusCodes, latencies.summary(), seconds.measured);
}

/** A run's answers by status: 200s completed, everything else failed, over the measured window. */
export function countedResult(
  generator: HttpLoadResult['generator'],
  statusCodes: Record<string, number>,
  latencyMs: LatencySummary,
  measuredSeconds: number,
): HttpLoadResult {
  const ok = statusCodes['200'] ?? 0;
  const all = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    generator,
    completed: ok,
    failed: all - ok,
    statusCodes,
    rps: ok / measuredSeconds,
    latencyMs,
  };
}

function countStatuses(logFile: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const status = line.split('\t')[1];
    if (status) out[status] = (out[status] ?? 0) + 1;
  }
  return out;
}
