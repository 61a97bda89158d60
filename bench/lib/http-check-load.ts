import path from 'node:path';
import type { HttpCheckSet } from './http-check-request.js';
import { runH2loadHttp1, type HttpLoadResult } from './http-load.js';
import type { LoadResult, LoadSettings } from './load-result.js';
import { runVegetaClosed } from './vegeta-closed-loop.js';

/**
 * Closed-loop load on a server's ext_authz HTTP listener, as Envoy's HTTP mode drives it: HTTP/1.1
 * keep-alive connections, one check in flight on each. `connections × streams` connections, the
 * same concurrency as the gRPC cases' (2 × 16 = 32 by default). h2load-h1 repeats the first
 * request; vegeta cycles through all of them.
 */
export async function runHttpCheckLoad(input: {
  address: string;
  generator: 'h2load-h1' | 'vegeta';
  requests: HttpCheckSet;
  settings: LoadSettings;
  /** Where h2load's per-request log goes (it holds no token). */
  scratch: string;
  cpus?: string | undefined;
}): Promise<LoadResult> {
  const { settings } = input;
  const connections = settings.connections * settings.streams;
  const seconds = { warmup: settings.warmupSeconds, measured: settings.durationSeconds };
  const targets = input.requests.requests.map((r) => ({
    method: r.method,
    url: `http://${input.address}${r.path}`,
    headers: input.generator === 'vegeta' ? withoutContentLength(r.headers) : r.headers,
  }));
  if (targets.length === 0) throw new Error('no requests to send');
  const result =
    input.generator === 'h2load-h1'
      ? await runH2loadHttp1(targets[0]!, connections, seconds, input.scratch, input.cpus)
      : await runVegetaClosed({
          targets,
          workers: connections,
          seconds,
          scratch: path.join(input.requests.dir, 'vegeta-closed'),
          cpus: input.cpus,
        });
  return toLoadResult(result, settings.durationSeconds);
}

/**
 * Go's HTTP client (vegeta) writes `Content-Length: 0` for an empty POST itself and would send a
 * target's own copy as a second one, which node:http refuses (400).
 */
function withoutContentLength(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-length'));
}

/** Answers by status: 200 an allow, 4xx a denial (a decision either way), anything else failed. */
function toLoadResult(r: HttpLoadResult, seconds: number): LoadResult {
  let ok = 0;
  let denied = 0;
  let failed = 0;
  for (const [status, n] of Object.entries(r.statusCodes)) {
    const code = Number(status);
    if (code === 200) ok += n;
    else if (code >= 400 && code < 500) denied += n;
    else failed += n;
  }
  return {
    generator: r.generator,
    completed: ok + denied,
    failed,
    seconds,
    rps: (ok + denied) / seconds,
    latencyMs: r.latencyMs,
    outcomes: { ok, denied, grpcErrors: 0 },
    statusCodes: r.statusCodes,
  };
}
