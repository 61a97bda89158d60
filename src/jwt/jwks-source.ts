import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  errors as joseErrors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type CryptoKey,
} from 'jose';
import { repeat, systemTimers, type Clock, type Timers } from '../clock.js';
import { JwtxError } from '../errors.js';
import { httpRequest } from '../net/http-client.js';
import { originAndPath } from '../redact.js';

export type JwksLoader = () => Promise<JSONWebKeySet>;

export interface JwksSourceOptions {
  /** Label for logs and metrics (the issuer). */
  readonly name: string;
  readonly load: JwksLoader;
  readonly clock: Clock;
  /** Schedules background refreshes and retries (default: the system's). */
  readonly timers?: Timers;
  readonly refreshIntervalMs: number;
  readonly cooldownMs: number;
  readonly maxStaleMs: number;
  /** Called after every load attempt; keeps metrics and logs out of this file. */
  readonly onLoad?: (result: {
    ok: boolean;
    keys?: number;
    error?: Error;
    trigger: string;
  }) => void;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * One issuer's key set: loaded at start, refreshed in the background, refetched when a token
 * names an unknown kid (at most once per cooldown), and still served while the endpoint is
 * down — but only for maxStaleMs after the last successful load.
 */
export class JwksSource {
  private resolver: KeyResolver | undefined;
  private keyCount = 0;
  private lastSuccess = -Infinity;
  private lastAttempt = -Infinity;
  /** Whether the most recent load failed (the endpoint is down or answering garbage). */
  private lastFailed = false;
  private inflight: Promise<void> | undefined;
  private stopRefresh: (() => void) | undefined;
  private retryTimer: unknown;
  private readonly timers: Timers;

  constructor(private readonly opts: JwksSourceOptions) {
    this.timers = opts.timers ?? systemTimers;
  }

  get name(): string {
    return this.opts.name;
  }

  /** True once a key set has been loaded and is not older than maxStaleMs. */
  isUsable(): boolean {
    return (
      this.resolver !== undefined &&
      this.opts.clock.now() - this.lastSuccess <= this.opts.maxStaleMs
    );
  }

  /** Seconds since the last successful load (Infinity before the first). */
  ageSeconds(): number {
    return (this.opts.clock.now() - this.lastSuccess) / 1000;
  }

  get size(): number {
    return this.keyCount;
  }

  /** Starts background refreshes. The first load is not awaited here (see refresh()). */
  start(): void {
    if (this.stopRefresh) return;
    void this.refresh('start');
    const interval = this.opts.refreshIntervalMs;
    this.stopRefresh = repeat(this.timers, () => void this.refresh('interval'), interval);
  }

  stop(): void {
    this.stopRefresh?.();
    if (this.retryTimer !== undefined) this.timers.clear(this.retryTimer);
    this.stopRefresh = undefined;
    this.retryTimer = undefined;
  }

  /** After a failed load, try again one cooldown later rather than a whole interval later. */
  private scheduleRetry(): void {
    if (!this.stopRefresh || this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.set(() => {
      this.retryTimer = undefined;
      void this.refresh('retry');
    }, this.opts.cooldownMs);
  }

  /** Loads the key set now; concurrent callers share one load. Never throws. */
  refresh(trigger = 'manual'): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttempt = this.opts.clock.now();
    this.inflight = this.opts
      .load()
      .then((jwks) => {
        if (!jwks || !Array.isArray(jwks.keys)) throw new Error('response is not a JWK Set');
        this.resolver = createLocalJWKSet(jwks);
        this.keyCount = jwks.keys.length;
        this.lastSuccess = this.opts.clock.now();
        this.lastFailed = false;
        this.opts.onLoad?.({ ok: true, keys: jwks.keys.length, trigger });
      })
      .catch((error: unknown) => {
        this.lastFailed = true;
        this.opts.onLoad?.({ ok: false, error: error as Error, trigger });
        this.scheduleRetry();
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /**
   * Joins a load in flight, or starts one unless the last attempt was within the cooldown, so a
   * down endpoint or a stream of unknown kids never turns every check into a fetch.
   * Resolves true when a load was awaited.
   */
  private async reloadIfAllowed(trigger: string): Promise<boolean> {
    if (this.inflight) return this.inflight.then(() => true);
    if (this.opts.clock.now() - this.lastAttempt < this.opts.cooldownMs) return false;
    await this.refresh(trigger);
    return true;
  }

  /** Key resolver in the shape jose's jwtVerify expects. Throws JwtxError with a reason code. */
  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey> => {
    if (!this.isUsable()) await this.reloadIfAllowed('unusable');
    if (!this.isUsable()) {
      throw new JwtxError('jwks_unavailable', `no usable key set for issuer ${this.opts.name}`);
    }
    try {
      return await this.resolver!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      // Unknown kid: the issuer may have rotated. Refetch, but not more than once per cooldown.
      const reloaded = await this.reloadIfAllowed('unknown-kid');
      if (this.lastFailed) {
        // We cannot see the issuer's current keys, so we cannot tell a rotation from a forgery:
        // a retriable 503, never a 401 for a token that may be good.
        throw new JwtxError(
          'jwks_unavailable',
          `the token's key is not in the cached key set of issuer ${this.opts.name}, which cannot be refreshed now`,
        );
      }
      if (!reloaded) throw err;
      return this.resolver!(header, token);
    }
  };
}

/**
 * Loads a JWKS over HTTP(S), optionally trusting a private CA. Errors name the URL as origin +
 * path only: a jwksUri may carry credentials in its userinfo or query string.
 */
export function httpJwksLoader(url: string, timeoutMs: number, ca?: Buffer): JwksLoader {
  const shown = originAndPath(url);
  return async () => {
    const res = await httpRequest(url, { timeoutMs, ca, maxBytes: 512 * 1024 });
    if (res.status !== 200) throw new Error(`GET ${shown} answered ${res.status}`);
    return JSON.parse(res.body) as JSONWebKeySet;
  };
}

/** Loads a JWKS from a file, re-read on every refresh so a rotated file is picked up. */
export function fileJwksLoader(file: string): JwksLoader {
  return async () => JSON.parse(await readFile(file, 'utf8')) as JSONWebKeySet;
}
