import path from 'node:path';
import type { BodySet } from './fixtures.js';
import { runH2load } from './h2load.js';
import { treeCpuMicros, treeMemory, type TreeMemory } from './proc.js';
import type { Generator, LoadResult, LoadSettings } from './load-result.js';
import { runCycler } from './run-cycler.js';
import { checkSample, type Expectation } from './sample.js';
import type { ServerStats } from './server-protocol.js';
import type { ServerUnderTest } from './servers.js';

export interface Measurement {
  readonly load: LoadResult;
  /** Decisions the server itself counted during the run (warm-up included). */
  readonly served: { readonly ok: number; readonly denied: number };
  readonly before: ServerStats;
  readonly after: ServerStats;
  /** Empty when every check was answered as expected; otherwise the number is meaningless. */
  readonly problems: string[];
  /** Server CPU time (its process tree) per completed call, in microseconds. */
  readonly serverCpuUsPerCall: number;
  /** The server's memory right after the load. */
  readonly memory: TreeMemory;
}

/**
 * One measurement: decode a sample (fail fast on wrong answers), snapshot the server's counters,
 * drive load, snapshot again, and cross-check what the generator saw with what the server counted.
 */
export async function measure(input: {
  server: ServerUnderTest;
  generator: Generator;
  bodies: BodySet;
  expect: Expectation;
  settings: LoadSettings;
  scratchDir: string;
  /** Pin the load generator to these CPUs (taskset list). */
  generatorCpus?: string | undefined;
}): Promise<Measurement> {
  const { server, bodies, expect, settings } = input;
  const sampleProblems = await checkSample(server.address, bodies.bodies, expect);
  const before = await server.stats();
  const cpuBefore = treeCpuMicros(server.pid);
  const load =
    input.generator === 'h2load'
      ? await runH2load(
          server.address,
          bodies.file,
          settings,
          path.join(input.scratchDir, `${server.name}-h2load.log`),
          input.generatorCpus,
        )
      : await runCycler(server.address, bodies.file, settings, input.generatorCpus);
  // Warm-up included on both sides: CPU over every call the generator made.
  const cpuMicros = treeCpuMicros(server.pid) - cpuBefore;
  const memory = treeMemory(server.pid);
  const after = await server.stats();
  const served = { ok: after.ok - before.ok, denied: after.denied - before.denied };
  const calls =
    (load.completed * (settings.durationSeconds + settings.warmupSeconds)) /
    settings.durationSeconds;
  return {
    load,
    served,
    before,
    after,
    serverCpuUsPerCall: calls > 0 ? cpuMicros / calls : NaN,
    memory,
    problems: [
      ...sampleProblems,
      ...(server.countsDecisions === false
        ? generatorOnly(load, expect)
        : crossCheck(load, served, expect)),
    ],
  };
}

/** For a server without counters: the generator must have classified every answer. */
function generatorOnly(load: LoadResult, expect: Expectation): string[] {
  if (!load.outcomes) return ['nothing counted the answers (the generator cannot read them)'];
  const problems: string[] = [];
  if (load.completed === 0) problems.push('no request completed');
  if (load.failed > 0) problems.push(`${load.failed} requests failed at the HTTP/2 level`);
  const { ok, denied, grpcErrors } = load.outcomes;
  if (grpcErrors > 0) problems.push(`${grpcErrors} calls ended with a gRPC error`);
  if ((expect.ok ? denied : ok) > 0)
    problems.push(`the generator saw ${expect.ok ? 'denials' : 'allows'}`);
  if ((expect.ok ? ok : denied) !== load.completed)
    problems.push('not every answer was classified');
  return problems;
}

function crossCheck(
  load: LoadResult,
  served: { ok: number; denied: number },
  expect: Expectation,
): string[] {
  const problems: string[] = [];
  if (load.completed === 0) problems.push('no request completed');
  if (load.failed > 0) problems.push(`${load.failed} requests failed at the HTTP/2 level`);
  const wanted = expect.ok ? served.ok : served.denied;
  const unwanted = expect.ok ? served.denied : served.ok;
  const label = expect.ok ? 'denials' : 'allows';
  if (unwanted > 0) problems.push(`the server counted ${unwanted} unexpected ${label}`);
  // The server also counts warm-up and straddling calls, so it may count more, never fewer.
  if (wanted < load.completed) {
    problems.push(`the server counted ${wanted} decisions for ${load.completed} completed calls`);
  }
  if (load.outcomes) {
    const { ok, denied, grpcErrors } = load.outcomes;
    if (grpcErrors > 0) problems.push(`${grpcErrors} calls ended with a gRPC error`);
    if ((expect.ok ? denied : ok) > 0) problems.push(`the generator saw ${label}`);
  }
  return problems;
}
