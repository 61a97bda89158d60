import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { CHECK_METHOD_PATH } from '../../src/envoy/proto.js';
import { pinned } from './child.js';
import { CHECK_REQUEST_HEADERS } from './h2-grpc.js';
import { SampleBuffer } from './latency.js';
import type { LoadResult, LoadSettings } from './load-result.js';
import { h2loadBinary } from './paths.js';

const run = promisify(execFile);

/**
 * h2load (nghttp2) driving unary gRPC over h2c: one pre-framed CheckRequest body (-d) repeated,
 * gRPC headers added with -H. It reports HTTP-level results only, so the caller checks decisions
 * with the server's counters; latency percentiles come from its per-request --log-file, which
 * holds only the measurement window (warm-up excluded).
 */
export async function runH2load(
  address: string,
  bodyFile: string,
  settings: LoadSettings,
  logFile: string,
  cpus?: string,
): Promise<LoadResult> {
  const args = [
    '-t',
    '1',
    '-c',
    String(settings.connections),
    '-m',
    String(settings.streams),
    '-D',
    String(settings.durationSeconds),
    '--warm-up-time',
    String(settings.warmupSeconds),
    '-d',
    bodyFile,
    '-H',
    `content-type: ${CHECK_REQUEST_HEADERS['content-type']}`,
    '-H',
    `te: ${CHECK_REQUEST_HEADERS.te}`,
    '--log-file',
    logFile,
    `http://${address}${CHECK_METHOD_PATH}`,
  ];
  const timeout = (settings.durationSeconds + settings.warmupSeconds + 60) * 1000;
  const cmd = pinned(h2loadBinary(), args, cpus);
  const { stdout } = await run(cmd.command, cmd.args, { timeout, maxBuffer: 1 << 20 });
  const summary = parseSummary(stdout);
  const latencies = readLatencies(logFile);
  rmSync(logFile, { force: true });
  return {
    generator: 'h2load',
    completed: summary.succeeded,
    failed: summary.failed + summary.errored + summary.timeout + summary.non2xx,
    seconds: settings.durationSeconds,
    rps: summary.succeeded / settings.durationSeconds,
    latencyMs: latencies.summary(),
  };
}

interface H2loadSummary {
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  non2xx: number;
}

export function parseSummary(stdout: string): H2loadSummary {
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (!requests || !codes) throw new Error(`unexpected h2load output:\n${stdout}`);
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  return {
    succeeded: n(requests, 4),
    failed: n(requests, 5),
    errored: n(requests, 6),
    timeout: n(requests, 7),
    non2xx: n(codes, 2) + n(codes, 3) + n(codes, 4),
  };
}

/** --log-file rows: start (µs since epoch) TAB HTTP status (-1: failed stream) TAB duration µs. */
export function readLatencies(logFile: string): SampleBuffer {
  const samples = new SampleBuffer();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const [, status, micros] = line.split('\t');
    if (status === '200' && micros !== undefined) samples.push(Number(micros));
  }
  return samples;
}
