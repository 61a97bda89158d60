import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { CachedServiceToken, TokenKey } from '../tokens/service-token-cache.js';
import type { TokenFailureKind } from '../tokens/token-errors.js';
import type { GateStatus } from '../readiness.js';

/**
 * IPC between the primary and its workers (`server.workers` > 1). Every message carries a `jwtx`
 * type so other users of the channel (node:cluster's own) are ignored.
 */

/** A failed token request as it crosses the channel (TokenRequestError's fields). */
export interface TokenFailure {
  readonly kind: TokenFailureKind;
  readonly message: string;
  readonly oauthError?: string;
}

export type PrimaryMessage =
  | { readonly jwtx: 'service-token'; readonly token: CachedServiceToken }
  | {
      readonly jwtx: 'token-reply';
      readonly id: number;
      readonly token?: CachedServiceToken;
      readonly error?: TokenFailure;
    }
  | { readonly jwtx: 'metrics-request'; readonly id: number }
  | { readonly jwtx: 'drain' };

export type WorkerMessage =
  /** The worker listens for messages now (anything sent before its code ran was lost). */
  | { readonly jwtx: 'hello' }
  | { readonly jwtx: 'listening'; readonly ports: ListeningPorts }
  /** The worker could not start (e.g. the gRPC port is taken); it exits next. */
  | { readonly jwtx: 'start-failed'; readonly message: string }
  | {
      readonly jwtx: 'readiness';
      readonly ready: boolean;
      readonly gates: Readonly<Record<string, GateStatus>>;
    }
  | { readonly jwtx: 'token-request'; readonly id: number; readonly key: TokenKey }
  | {
      readonly jwtx: 'metrics-reply';
      readonly id: number;
      readonly metrics: MetricObjectWithValues<MetricValue<string>>[];
    };

const isJwtx = (m: unknown) =>
  typeof m === 'object' && m !== null && typeof (m as { jwtx?: unknown }).jwtx === 'string';

export const isPrimaryMessage = (m: unknown): m is PrimaryMessage => isJwtx(m);
export const isWorkerMessage = (m: unknown): m is WorkerMessage => isJwtx(m);

/** The check listeners' ports a worker bound (shared by every worker through node:cluster). */
export interface ListeningPorts {
  readonly grpcPort: number;
  readonly httpCheckPort: number | undefined;
}
