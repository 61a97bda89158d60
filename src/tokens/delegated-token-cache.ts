import { LRUCache } from 'lru-cache';
import type { Clock, Timers } from '../clock.js';
import { backoffDelay, refreshPoint } from './backoff.js';
import type { IssuedToken } from './token-client.js';
import { TokenRequestError } from './token-errors.js';

/** One entry per (audience, saga id). */
export interface DelegatedKey {
  readonly audience: string;
  readonly sagaId: string;
}

export interface DelegatedCacheSettings {
  /** Most entries kept; the least recently used goes first. */
  readonly maxEntries: number;
  /** An entry not used for this long is dropped (and no longer refreshed). */
  readonly idleMs: number;
  /** How long a refusal (the saga is not ours, unknown, expired…) is remembered. */
  readonly refusalTtlMs: number;
  readonly refreshAt: number;
  readonly jitter: number;
  readonly safetyMarginMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

export type LookupResult = 'hit' | 'miss' | 'refused';

/** Hooks for metrics and logs (labels: the configured audience, never the saga id). */
export interface DelegatedCacheEvents {
  looked?(audience: string, result: LookupResult): void;
  exchanged?(
    key: DelegatedKey,
    result: 'success' | 'refused' | 'error',
    seconds: number,
    error?: TokenRequestError,
  ): void;
  refreshed?(audience: string, result: 'success' | 'failure'): void;
  evicted?(reason: 'idle' | 'capacity'): void;
}

export interface DelegatedTokenCacheOptions {
  readonly fetch: (key: DelegatedKey) => Promise<IssuedToken>;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly settings: DelegatedCacheSettings;
  readonly random?: () => number;
  readonly events?: DelegatedCacheEvents;
}

interface Entry {
  readonly key: DelegatedKey;
  token: IssuedToken | undefined;
  inflight: Promise<IssuedToken> | undefined;
  failures: number;
  refusal: { error: TokenRequestError; until: number } | undefined;
  timer?: unknown;
  /** Set once the LRU let go of the entry: nothing may schedule work for it any more. */
  dropped?: boolean;
}

const idOf = (key: DelegatedKey) => `${key.audience}\u0000${key.sagaId}`;

/**
 * RFC 6749 / RFC 8693 codes that retrying will not change: the saga is not this service's, has
 * no single initiator or has expired (invalid_request, or invalid_grant from other servers), or
 * the service/audience is not allowed. server_error and transport failures are not refusals.
 */
const REFUSALS = new Set([
  'invalid_request',
  'invalid_grant',
  'unauthorized_client',
  'invalid_target',
  'invalid_client',
  'invalid_scope',
]);

export const isRefusal = (e: TokenRequestError): boolean =>
  e.kind === 'refused' && e.oauthError !== undefined && REFUSALS.has(e.oauthError);

/**
 * Delegated tokens per (audience, saga id): a bounded LRU, refreshed ahead in the background like
 * service tokens, one exchange in flight per key, served until exp minus a margin while
 * token-exchange is down. A refusal is remembered for refusalTtlMs and ends the entry's token at
 * once (a revoked or expired saga stops getting tokens). Entries unused for idleMs age out.
 */
export class DelegatedTokenCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly opts: DelegatedTokenCacheOptions) {
    this.random = opts.random ?? Math.random;
    this.lru = new LRUCache<string, Entry>({
      max: Math.max(1, opts.settings.maxEntries),
      ttl: opts.settings.idleMs,
      updateAgeOnGet: true,
      // Ages come from the injected clock, read every time (no cached "now").
      perf: { now: () => opts.clock.now() },
      ttlResolution: 0,
      dispose: (entry, _key, reason) => {
        entry.dropped = true;
        opts.timers.clear(entry.timer);
        if (reason === 'evict') opts.events?.evicted?.('capacity');
        if (reason === 'expire') opts.events?.evicted?.('idle');
      },
    });
  }

  /** The token: synchronously when a usable one is cached, otherwise after one shared exchange. */
  get(key: DelegatedKey): string | Promise<string> {
    const id = idOf(key);
    const now = this.opts.clock.now();
    let e = this.lru.get(id);
    if (e && this.usable(e, now)) {
      this.opts.events?.looked?.(key.audience, 'hit');
      return e.token!.accessToken;
    }
    if (e?.refusal && now < e.refusal.until) {
      this.opts.events?.looked?.(key.audience, 'refused');
      throw e.refusal.error;
    }
    if (!e) {
      e = { key, token: undefined, inflight: undefined, failures: 0, refusal: undefined };
      this.lru.set(id, e);
    }
    this.opts.events?.looked?.(key.audience, 'miss');
    return this.load(e).then((t) => t.accessToken);
  }

  /** Entries held now (idle ones purged first), for the size gauge. */
  size(): number {
    this.lru.purgeStale();
    return this.lru.size;
  }

  /** At shutdown: every entry goes (stale ones too), and with it every timer. */
  stop(): void {
    this.stopped = true;
    this.lru.clear();
  }

  /**
   * Used until exp minus the safety margin, or minus half its lifetime when that is shorter: a
   * token cut short by its saga's expiry is still used, rather than fetched on every request.
   */
  private usable(e: Entry, now: number): boolean {
    return e.token !== undefined && now < e.token.expiresAtMs - this.margin(e.token);
  }

  private load(e: Entry): Promise<IssuedToken> {
    if (e.inflight) return e.inflight;
    const started = this.opts.clock.now();
    const seconds = () => (this.opts.clock.now() - started) / 1000;
    e.inflight = this.opts
      .fetch(e.key)
      .then(
        (token) => {
          this.opts.events?.exchanged?.(e.key, 'success', seconds());
          Object.assign(e, { token, failures: 0, refusal: undefined });
          this.scheduleRefresh(e, token);
          return token;
        },
        (err: unknown) => {
          const error =
            err instanceof TokenRequestError
              ? err
              : new TokenRequestError('transport', String(err));
          const refused = isRefusal(error);
          this.opts.events?.exchanged?.(e.key, refused ? 'refused' : 'error', seconds(), error);
          e.failures++;
          // An unusable answer (`invalid`) will not change by retrying either: remembered too.
          if (refused || error.kind === 'invalid') {
            // A refusal ends the delegation now, not at the cached token's exp; no retries.
            this.opts.timers.clear(e.timer);
            e.timer = undefined;
            e.token = undefined;
            e.refusal = { error, until: this.opts.clock.now() + this.opts.settings.refusalTtlMs };
          } else if (e.token) {
            const { minBackoffMs, maxBackoffMs } = this.opts.settings;
            this.schedule(e, backoffDelay(e.failures, minBackoffMs, maxBackoffMs, this.random));
          }
          throw error;
        },
      )
      .finally(() => {
        e.inflight = undefined;
      });
    return e.inflight;
  }

  private margin(t: IssuedToken): number {
    return Math.min(this.opts.settings.safetyMarginMs, (t.expiresAtMs - t.issuedAtMs) / 2);
  }

  /** At refreshAt of the lifetime (± jitter), never after the usable end, never sooner than the backoff floor. */
  private scheduleRefresh(e: Entry, token: IssuedToken): void {
    const { refreshAt, jitter, minBackoffMs } = this.opts.settings;
    const at = Math.min(
      refreshPoint(token.issuedAtMs, token.expiresAtMs, refreshAt, jitter, this.random),
      token.expiresAtMs - this.margin(token),
    );
    this.schedule(e, Math.max(at - this.opts.clock.now(), minBackoffMs));
  }

  /** A background refresh, unless the entry went idle meanwhile (then it is dropped instead). */
  private schedule(e: Entry, delayMs: number): void {
    if (this.stopped || e.dropped) return;
    this.opts.timers.clear(e.timer);
    e.timer = this.opts.timers.set(() => {
      e.timer = undefined;
      // Reading without touching the age: an idle entry is purged (dispose says 'idle').
      if (this.lru.get(idOf(e.key), { updateAgeOnGet: false }) !== e) return;
      this.load(e).then(
        () => this.opts.events?.refreshed?.(e.key.audience, 'success'),
        () => this.opts.events?.refreshed?.(e.key.audience, 'failure'),
      );
    }, delayMs);
  }
}
