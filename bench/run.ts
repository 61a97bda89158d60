/**
 * `npm run bench`: throughput and latency of the ext_authz server against a bare grpc-js ceiling.
 * Each case starts its own server process and drives it from a separate load-generator process
 * (h2load, or the h2-cycler when bodies must vary); see bench/README.md for how to read the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchCase, CaseContext, CaseResult } from './cases/case.js';
import { CASES } from './cases/index.js';
import { evaluateGoals, formatGoals } from './goals.js';
import { killLiveChildren } from './lib/child.js';
import { allocator } from './lib/server-env.js';
import { Fixtures } from './lib/fixtures.js';
import { h2loadBinary, RESULTS_DIR, ROOT } from './lib/paths.js';
import { medianRound } from './lib/rounds.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { formatProfile, formatTable, formatVerdict, writeJson, type Machine } from './report.js';

function machineInfo(loadAtStart: number[]): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    // not a git checkout: the JSON just says unknown
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    allocator: allocator(),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    commit,
  };
}

function describeSetup(options: BenchOptions): string {
  const s = options.settings;
  return [
    `jwtexchange bench · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · node ${process.version} · servers' malloc: ${allocator() === 'jemalloc' ? 'jemalloc (preloaded, as the image runs it)' : 'glibc (JWTX_BENCH_MALLOC=glibc)'}`,
    options.pin && os.availableParallelism() >= 2
      ? 'per-core cases: server pinned to CPU 0 (one worker), load generator to CPU 1 (taskset); through-Envoy, scaling and memory cases unpinned'
      : 'nothing is pinned to a core (--no-pin, or one CPU)',
    `${s.connections} connections × ${s.streams} streams (per-core HTTP cases: ${s.connections * s.streams} HTTP/1.1 connections, one check each) · ${s.warmupSeconds} s warm-up + ${s.durationSeconds} s measured per case · ${options.rounds} round(s)`,
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes skew the numbers)`,
  ].join('\n');
}

async function runCase(c: BenchCase, ctx: CaseContext): Promise<CaseResult> {
  try {
    return await c.run(ctx);
  } catch (err) {
    process.stderr.write(`  ${c.name} failed: ${(err as Error).message}\n`);
    const reason = `FAILED: ${(err as Error).message.split('\n')[0]}`;
    return { kind: 'skipped', name: c.name, summary: c.summary, reason };
  }
}

/**
 * Runs the selected cases in order, `rounds` times interleaved (bare, warm, …, bare, warm, …), so
 * the ceiling and the cases see the same background load; each case reports its median round.
 * A case that throws is reported as FAILED, not fatal; a skipped case is not retried.
 */
async function runCases(options: BenchOptions, ctx: CaseContext): Promise<CaseResult[]> {
  const selected = CASES.filter((k) => options.cases.includes(k.name));
  const rounds = new Map<string, CaseResult[]>(selected.map((c) => [c.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const c of selected) {
      const done = rounds.get(c.name)!;
      if (done[0]?.kind === 'skipped') continue;
      const of = options.rounds > 1 ? ` (round ${round}/${options.rounds})` : '';
      process.stderr.write(`• ${c.name}${of}: ${c.summary}\n`);
      done.push(await runCase(c, ctx));
    }
  }
  return selected.map((c) => medianRound(rounds.get(c.name)!));
}

async function main(argv: string[]): Promise<number> {
  const usage = USAGE.replace('%CASES%', CASES.map((c) => c.name).join(', '));
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(
      argv,
      CASES.map((c) => c.name),
    );
    h2loadBinary();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const loadAtStart = os.loadavg();
  process.stdout.write(describeSetup(options) + '\n\n');
  const fixtures = new Fixtures();
  try {
    const ctx: CaseContext = {
      settings: options.settings,
      fixtures,
      resultsDir: RESULTS_DIR,
      distinctTokens: options.distinctTokens,
      profile: options.profile,
      cpus: options.pin && os.availableParallelism() >= 2 ? { server: '0', generator: '1' } : {},
    };
    const results = await runCases(options, ctx);
    const goals = evaluateGoals(results);
    process.stdout.write(`\n${formatTable(results)}\n\n${formatVerdict(results)}\n`);
    process.stdout.write(`\n${formatGoals(goals)}\n`);
    for (const r of results) {
      if (r.kind === 'measured' && r.profile) {
        process.stdout.write(`\n${formatProfile(r.name, r.profile)}\n`);
      }
    }
    const json = path.join(RESULTS_DIR, 'latest.json');
    writeJson(json, options, machineInfo(loadAtStart), results, goals);
    process.stdout.write(
      `\nresults: ${path.relative(ROOT, json)}; server logs in bench/results/\n`,
    );
    // Exit 1 when a number must not be trusted (wrong answers) or a case failed to run.
    const bad = results.some(
      (r) =>
        (r.kind === 'measured' && r.problems.length > 0) ||
        (r.kind === 'skipped' && r.reason.startsWith('FAILED')),
    );
    return bad ? 1 : 0;
  } finally {
    fixtures.cleanup();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killLiveChildren();
    process.exit(130);
  });
}
process.on('exit', killLiveChildren);
process.exitCode = await main(process.argv.slice(2));
