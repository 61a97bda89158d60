import type { Clock, Timers } from '../clock.js';
import { backoffDelay } from './backoff.js';
import type { DiscoveredEndpoint } from './server-metadata.js';
import { TokenRequestError } from './token-errors.js';

/** Where token requests go: a configured URL, or one found in the server's metadata. */
export interface TokenEndpointSource {
  /** The token endpoint; loads the metadata first when it is not known yet. */
  resolve(): string | Promise<string>;
  start(): void;
  stop(): void;
}

export function staticTokenEndpoint(url: string): TokenEndpointSource {
  return { resolve: () => url, start() {}, stop() {} };
}

/** What one metadata load did, for logs. */
export type DiscoveryEvent =
  | { readonly ok: true; readonly endpoint: DiscoveredEndpoint; readonly changed: boolean }
  | {
      readonly ok: false;
      readonly error: Error;
      readonly retryInMs: number;
      readonly stale: boolean;
    };

export interface DiscoveredTokenEndpointOptions {
  readonly load: () => Promise<DiscoveredEndpoint>;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly refreshMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly random?: () => number;
  readonly onLoad?: (event: DiscoveryEvent) => void;
}

/**
 * The token endpoint from RFC 8414 metadata: loaded at start, reloaded every refreshMs, retried
 * with backoff while the metadata cannot be loaded — the same way an unreachable token endpoint
 * is retried. A failed reload keeps the endpoint already known. One load at a time.
 */
export class DiscoveredTokenEndpoint implements TokenEndpointSource {
  private current: DiscoveredEndpoint | undefined;
  private inflight: Promise<DiscoveredEndpoint> | undefined;
  private failures = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly opts: DiscoveredTokenEndpointOptions) {}

  get known(): boolean {
    return this.current !== undefined;
  }

  resolve(): string | Promise<string> {
    if (this.current) return this.current.tokenEndpoint;
    return this.load().then(
      (e) => e.tokenEndpoint,
      (err: unknown) => {
        throw new TokenRequestError(
          'transport',
          `the token endpoint is not known: ${(err as Error).message}`,
          undefined,
          { cause: err },
        );
      },
    );
  }

  start(): void {
    this.stopped = false;
    this.load().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.opts.timers.clear(this.timer);
  }

  private load(): Promise<DiscoveredEndpoint> {
    this.inflight ??= this.opts
      .load()
      .then(
        (endpoint) => {
          const changed = this.current?.tokenEndpoint !== endpoint.tokenEndpoint;
          this.current = endpoint;
          this.failures = 0;
          this.schedule(this.opts.refreshMs);
          this.opts.onLoad?.({ ok: true, endpoint, changed });
          return endpoint;
        },
        (err: unknown) => {
          this.failures++;
          const { minBackoffMs, maxBackoffMs, random } = this.opts;
          const retryInMs = backoffDelay(this.failures, minBackoffMs, maxBackoffMs, random);
          this.schedule(retryInMs);
          const error = err instanceof Error ? err : new Error(String(err));
          this.opts.onLoad?.({ ok: false, error, retryInMs, stale: this.current !== undefined });
          throw error;
        },
      )
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.opts.timers.clear(this.timer);
    this.timer = this.opts.timers.set(() => {
      this.timer = undefined;
      this.load().catch(() => undefined);
    }, delayMs);
  }
}
