import type { LatencySummary } from './latency.js';

/** Load generators of the gRPC listener (unary Check over h2c). */
export type GrpcGenerator = 'h2load' | 'h2-cycler';
/** Load generators over HTTP/1.1: h2load --h1, vegeta (the HTTP listener, or through Envoy). */
export type HttpGenerator = 'h2load-h1' | 'vegeta';
export type Generator = GrpcGenerator | HttpGenerator;

/** What one load run measured, from the load generator's side. */
export interface LoadResult {
  readonly generator: Generator;
  /** Requests completed inside the measurement window (warm-up excluded). */
  readonly completed: number;
  /**
   * Calls that got no decision: gRPC streams that failed at the HTTP/2 level (reset, connection
   * error, timeout); HTTP checks with no answer or a status other than 200 and 4xx.
   */
  readonly failed: number;
  readonly seconds: number;
  readonly rps: number;
  /** Open loop: the rate the generator was asked for (the result is judged by its latency). */
  readonly fixedRate?: number;
  readonly latencyMs: LatencySummary;
  /**
   * Responses classified by CheckResponse.status.code, when the generator can see it
   * (h2-cycler reads every response; h2load cannot, so the server's own counters are used);
   * over HTTP by status: 200 ok, 4xx denied (grpcErrors 0).
   */
  readonly outcomes?: { readonly ok: number; readonly denied: number; readonly grpcErrors: number };
  /** HTTP generators: every answer of the window by status (`0`, `-1`: no answer). */
  readonly statusCodes?: Readonly<Record<string, number>>;
}

export interface LoadSettings {
  readonly connections: number;
  readonly streams: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}
