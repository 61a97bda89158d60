import path from 'node:path';
import type { BodySet } from './fixtures.js';
import { runH2load } from './h2load.js';
import { runHttpCheckLoad } from './http-check-load.js';
import type { HttpCheckSet } from './http-check-request.js';
import { checkHttpSample } from './http-sample.js';
import { treeCpuMicros, treeMemory, type TreeMemory } from './proc.js';
import type { GrpcGenerator, HttpGenerator, LoadResult, LoadSettings } from './load-result.js';
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
 * What to send: pre-framed gRPC bodies to the gRPC listener (h2load, h2-cycler), or HTTP checks
 * to the server's HTTP listener (h2load-h1, vegeta).
 */
export type LoadPlan =
  | { generator: GrpcGenerator; bodies: BodySet }
  | { generator: HttpGenerator; requests: HttpCheckSet };

interface MeasureInput {
  server: ServerUnderTest;
  expect: Expectation;
  settings: LoadSettings;
  scratchDir: string;
  /** Pin the load generator to these CPUs (taskset list). */
  generatorCpus?: string | undefined;
}

/**
 * One measurement: decode a sample (fail fast on wrong answers), snapshot the server's counters,
 * drive load, snapshot again, and cross-check what the generator saw with what the server counted.
 */
export async function measure(input: MeasureInput & LoadPlan): Promise<Measurement> {
  const { server, expect, settings } = input;
  const sampleProblems =
    'bodies' in input
      ? await checkSample(server.address, input.bodies.bodies, expect)
      : await checkHttpSample(httpAddress(server), input.requests.requests, expect);
  const before = await server.stats();
  const cpuBefore = treeCpuMicros(server.pid);
  const load = await drive(input);
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
function httpAddress(server: ServerUnderTest): string {
  if (!server.httpCheckAddress) throw new Error(`${server.name} has no ext_authz HTTP listener`);
  return server.httpCheckAddress;
}

function drive(input: MeasureInput & LoadPlan): Promise<LoadResult> {
  const { server, settings, generatorCpus } = input;
  const scratch = path.join(input.scratchDir, `${server.name}-${input.generator}`);
  if ('bodies' in input) {
    return input.generator === 'h2load'
      ? runH2load(server.address, input.bodies.file, settings, `${scratch}.log`, generatorCpus)
      : runCycler(server.address, input.bodies.file, settings, generatorCpus);
  }
  return runHttpCheckLoad({
    address: httpAddress(server),
    generator: input.generator,
    requests: input.requests,
    settings,
    scratch,
    cpus: generatorCpus,
  });
}

/** Calls that got no decision, and why. */
function failures(load: LoadResult): string {
  if (!load.statusCodes) return `${load.failed} requests failed at the HTTP/2 level`;
  const codes = Object.entries(load.statusCodes)
    .filter(([code]) => code !== '200' && !/^4\d\d$/.test(code))
    .map(([code, n]) => `${code}: ${n}`);
  return `${load.failed} checks got no answer or one that is not a decision (${codes.join(', ')})`;
}

function generatorOnly(load: LoadResult, expect: Expectation): string[] {
  if (!load.outcomes) return ['nothing counted the answers (the generator cannot read them)'];
  const problems: string[] = [];
  if (load.completed === 0) problems.push('no request completed');
  if (load.failed > 0) problems.push(failures(load));
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
  if (load.failed > 0) problems.push(failures(load));
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
