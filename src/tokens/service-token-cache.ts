import type { Clock, Timers } from '../clock.js';
import { backoffDelay, refreshPoint } from './backoff.js';
import type { IssuedToken } from './token-client.js';
import { TokenRequestError } from './token-errors.js';

/** One cache entry per (audience, scope); scope '' means none. */
export interface TokenKey {
  readonly audience: string;
  readonly scope: string;
}

export interface CacheSettings {
  readonly refreshAt: number;
  readonly jitter: number;
  readonly safetyMarginMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly refusalTtlMs: number;
}

/** Hooks for metrics and logs, so this file stays about caching. */
export interface CacheEvents {
  exchanged?(
    audience: string,
    result: 'success' | 'refused' | 'error',
    seconds: number,
    error?: Error,
  ): void;
  refreshed?(audience: string, result: 'success' | 'failure'): void;
  servedStale?(audience: string): void;
  waited?(audience: string): void;
  /** token-exchange issues tokens that do not outlive the safety margin: a configuration error. */
  shortLived?(audience: string, lifetimeSeconds: number): void;
  /** A key's token changed: a new one (stale false), or refreshing it failed (stale true). */
  stored?(token: CachedServiceToken): void;
}

/** What a copy of the cache needs to serve a token exactly as long as this cache would. */
export interface CachedServiceToken {
  readonly key: TokenKey;
  readonly accessToken: string;
  /** Served until this instant (exp minus the safety margin), never after. */
  readonly usableUntilMs: number;
  /** A refresh failed: the token is served past its refresh point (served_stale). */
  readonly stale: boolean;
}

export interface ServiceTokenCacheOptions {
  readonly fetch: (key: TokenKey) => Promise<IssuedToken>;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly settings: CacheSettings;
  readonly random?: () => number;
  readonly events?: CacheEvents;
}

interface Entry {
  readonly key: TokenKey;
  token: IssuedToken | undefined;
  inflight: Promise<IssuedToken> | undefined;
  failures: number;
  refusal: { error: TokenRequestError; until: number } | undefined;
  timer: unknown;
  /** Prefetched keys are kept warm by background retries even before the first success. */
  keepWarm: boolean;
}

/**
 * Service tokens that never make a request wait once warm: refreshed in the background at about
 * half their lifetime (± jitter), one exchange in flight per key, served until exp minus a safety
 * margin while token-exchange is down (retrying with backoff), never past it. Deterministic
 * refusals are remembered briefly; transport errors are not.
 */
export class ServiceTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly opts: ServiceTokenCacheOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** The token: synchronously when a usable one is cached, otherwise after one shared exchange. */
  get(key: TokenKey): string | Promise<string> {
    const e = this.entry(key);
    const now = this.opts.clock.now();
    if (this.usable(e, now)) {
      if (e.failures > 0) this.opts.events?.servedStale?.(key.audience);
      return e.token!.accessToken;
    }
    if (e.refusal && now < e.refusal.until) throw e.refusal.error;
    this.opts.events?.waited?.(key.audience);
    return this.load(e).then((t) => t.accessToken);
  }

  /** Fetches these keys now and keeps them warm; resolves when each has been tried once. */
  async prefetch(keys: readonly TokenKey[]): Promise<void> {
    await Promise.all(
      keys.map((k) => {
        const e = this.entry(k);
        e.keepWarm = true;
        return this.load(e).catch(() => undefined);
      }),
    );
  }

  isWarm(key: TokenKey): boolean {
    return this.usable(this.entry(key), this.opts.clock.now());
  }

  /** Every cached token that is still usable, for copies of this cache (worker processes). */
  snapshot(): CachedServiceToken[] {
    const now = this.opts.clock.now();
    return [...this.entries.values()].filter((e) => this.usable(e, now)).map((e) => this.cached(e));
  }

  private cached(e: Entry): CachedServiceToken {
    return {
      key: e.key,
      accessToken: e.token!.accessToken,
      usableUntilMs: e.token!.expiresAtMs - this.opts.settings.safetyMarginMs,
      stale: e.failures > 0,
    };
  }

  /** Seconds until each cached token expires (negative once expired), for the expiry gauge. */
  expiries(): { audience: string; scope: string; seconds: number }[] {
    const now = this.opts.clock.now();
    return [...this.entries.values()]
      .filter((e) => e.token)
      .map((e) => ({ ...e.key, seconds: (e.token!.expiresAtMs - now) / 1000 }));
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) this.opts.timers.clear(e.timer);
  }

  private entry(key: TokenKey): Entry {
    const id = `${key.audience}\u0000${key.scope}`;
    let e = this.entries.get(id);
    if (!e) {
      e = {
        key,
        token: undefined,
        inflight: undefined,
        failures: 0,
        refusal: undefined,
        timer: undefined,
        keepWarm: false,
      };
      this.entries.set(id, e);
    }
    return e;
  }

  private usable(e: Entry, now: number): boolean {
    return e.token !== undefined && now < e.token.expiresAtMs - this.opts.settings.safetyMarginMs;
  }

  /** One exchange per key at a time; everyone asking meanwhile shares it. */
  private load(e: Entry): Promise<IssuedToken> {
    if (e.inflight) return e.inflight;
    const started = this.opts.clock.now();
    const seconds = () => (this.opts.clock.now() - started) / 1000;
    e.inflight = this.opts
      .fetch(e.key)
      .then(
        (token) => {
          e.token = token;
          e.failures = 0;
          e.refusal = undefined;
          this.scheduleRefresh(e, token);
          // After the entry holds the token, so listeners (readiness) see it as warm.
          this.opts.events?.exchanged?.(e.key.audience, 'success', seconds());
          this.opts.events?.stored?.(this.cached(e));
          return token;
        },
        (err: unknown) => {
          const error =
            err instanceof TokenRequestError
              ? err
              : new TokenRequestError('transport', String(err));
          this.opts.events?.exchanged?.(
            e.key.audience,
            error.kind === 'refused' ? 'refused' : 'error',
            seconds(),
            error,
          );
          e.failures++;
          if (e.token && e.failures === 1) this.opts.events?.stored?.(this.cached(e));
          if (error.deterministic)
            e.refusal = { error, until: this.opts.clock.now() + this.opts.settings.refusalTtlMs };
          this.scheduleRetry(e);
          throw error;
        },
      )
      .finally(() => {
        e.inflight = undefined;
      });
    return e.inflight;
  }

  private scheduleRefresh(e: Entry, token: IssuedToken): void {
    const { refreshAt, jitter, safetyMarginMs, minBackoffMs } = this.opts.settings;
    if (token.expiresAtMs - token.issuedAtMs <= safetyMarginMs) {
      this.opts.events?.shortLived?.(e.key.audience, (token.expiresAtMs - token.issuedAtMs) / 1000);
    }
    const at = Math.min(
      refreshPoint(token.issuedAtMs, token.expiresAtMs, refreshAt, jitter, this.random),
      token.expiresAtMs - safetyMarginMs,
    );
    // Never sooner than the backoff floor: a token that is unusable on arrival (lifetime not
    // longer than the margin) must not turn into a fetch loop against token-exchange.
    this.schedule(e, Math.max(at - this.opts.clock.now(), minBackoffMs));
  }

  /** After a failure, keep trying in the background while a token is cached or the key is kept warm. */
  private scheduleRetry(e: Entry): void {
    if (!e.token && !e.keepWarm) return;
    const { minBackoffMs, maxBackoffMs, refusalTtlMs } = this.opts.settings;
    let delay = backoffDelay(e.failures, minBackoffMs, maxBackoffMs, this.random);
    if (e.refusal) delay = Math.max(delay, refusalTtlMs);
    this.schedule(e, delay);
  }

  private schedule(e: Entry, delayMs: number): void {
    if (this.stopped) return;
    this.opts.timers.clear(e.timer);
    e.timer = this.opts.timers.set(() => {
      e.timer = undefined;
      this.load(e).then(
        () => this.opts.events?.refreshed?.(e.key.audience, 'success'),
        () => this.opts.events?.refreshed?.(e.key.audience, 'failure'),
      );
    }, delayMs);
  }
}
