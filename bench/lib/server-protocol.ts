import type { Sample } from './prom-text.js';

/** What a server under test reports: decisions served so far, and its raw metric samples. */
export interface ServerStats {
  /** Checks answered with an OK CheckResponse. */
  readonly ok: number;
  /** Checks answered with a denial (non-OK status inside a successful RPC). */
  readonly denied: number;
  /** The real server's /metrics samples (empty for the bare server). */
  readonly samples: readonly Sample[];
}

/** IPC messages from a bench child server (bench/servers/*) to the orchestrator. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'stats'; readonly stats: ServerStats };
