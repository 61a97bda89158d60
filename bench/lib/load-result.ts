import type { LatencySummary } from './latency.js';

export type Generator = 'h2load' | 'h2-cycler' | 'vegeta';

/** What one load run measured, from the load generator's side. */
export interface LoadResult {
  readonly generator: Generator;
  /** Requests completed inside the measurement window (warm-up excluded). */
  readonly completed: number;
  /** Streams that failed at the HTTP/2 level (reset, connection error, timeout). */
  readonly failed: number;
  readonly seconds: number;
  readonly rps: number;
  readonly latencyMs: LatencySummary;
  /**
   * Responses classified by CheckResponse.status.code, when the generator can see it
   * (h2-cycler reads every response; h2load cannot, so the server's own counters are used).
   */
  readonly outcomes?: { readonly ok: number; readonly denied: number; readonly grpcErrors: number };
}

export interface LoadSettings {
  readonly connections: number;
  readonly streams: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}
