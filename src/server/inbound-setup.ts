import { readFileSync } from 'node:fs';
import type { Clock, Timers } from '../clock.js';
import {
  exchangeTarget,
  type ExchangeConfig,
  type InboundConfig,
} from '../config/sections/inbound.js';
import type { CacheObserver } from '../check/inbound/authenticate.js';
import type { ExchangePhaseOptions } from '../check/inbound/exchange.js';
import { ExchangedTokenCache } from '../check/inbound/exchanged-cache.js';
import { fileJwksLoader, httpJwksLoader, JwksSource } from '../jwt/jwks-source.js';
import { VerifiedTokenCache } from '../jwt/verified-cache.js';
import { TokenVerifier, type TrustedIssuer } from '../jwt/verifier.js';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import type { Readiness } from '../readiness.js';
import { TokenRequestError } from '../tokens/token-errors.js';
import type { TokenEndpointClient } from '../tokens/token-client.js';

/** Mode A: issuers whose tokens are swapped for internal ones at token-exchange (RFC 8693). */
function exchangeSetup(
  config: InboundConfig,
  verifier: TokenVerifier,
  client: TokenEndpointClient | undefined,
  clock: Clock,
  logger: Logger,
): ExchangePhaseOptions<ExchangeConfig> | undefined {
  const exchangeFor = new Map(
    config.issuers.flatMap((i) => (i.exchange ? [[i.issuer, i.exchange] as const] : [])),
  );
  if (exchangeFor.size === 0 || !client) return undefined;
  const exchanger = {
    async exchange(subjectToken: string, e: ExchangeConfig): Promise<string> {
      const target = e.resource ? { resource: e.resource } : { audience: e.audience! };
      const request = {
        target,
        subjectTokenType: e.subjectTokenType,
        requestedTokenType: e.requestedTokenType,
      };
      try {
        return (await client.exchange(subjectToken, request)).accessToken;
      } catch (err) {
        // The server's own words are for the operator, never for the caller's deny (failureOf).
        if (err instanceof TokenRequestError && err.kind === 'refused') {
          logger.info('token exchange refused', { error: err.oauthError, detail: err.detail });
        }
        throw err;
      }
    },
  };
  const cache = new ExchangedTokenCache(
    config.verifiedCacheSize,
    clock,
    undefined,
    config.verifiedCacheMaxBytes,
  );
  const audienceOf = (e: ExchangeConfig) => exchangeTarget(e)!;
  return { exchangeFor, exchanger, verifier, cache, audienceOf };
}

/** What the inbound phases need: the key sets, the verifier and the caches. */
export interface Inbound {
  readonly sources: readonly JwksSource[];
  readonly verifier: TokenVerifier;
  readonly verifiedCache: VerifiedTokenCache;
  /** Counts verified-cache hits and misses. */
  readonly observeVerifiedCache: CacheObserver;
  /** For the exchange phase; undefined when no issuer's tokens are exchanged. */
  readonly exchange: ExchangePhaseOptions<ExchangeConfig> | undefined;
}

/** Builds the key sources, verifier and caches of the inbound direction from config. */
export function setupInbound(
  config: InboundConfig,
  deps: {
    clock: Clock;
    timers: Timers;
    metrics: SidecarMetrics;
    logger: Logger;
    readiness: Readiness;
    /** token-exchange, for issuers whose tokens are exchanged (`exchange`). */
    exchangeClient?: TokenEndpointClient | undefined;
  },
): Inbound {
  const { clock, metrics, logger } = deps;
  const trusted: TrustedIssuer[] = config.issuers.map((cfg) => {
    const loader = cfg.jwksUri
      ? httpJwksLoader(
          cfg.jwksUri,
          cfg.jwks.timeoutMs,
          cfg.jwksCaFile ? readFileSync(cfg.jwksCaFile) : undefined,
        )
      : fileJwksLoader(cfg.jwksFile!);
    const keys = new JwksSource({
      name: cfg.issuer,
      load: loader,
      clock,
      timers: deps.timers,
      refreshIntervalMs: cfg.jwks.refreshIntervalMs,
      cooldownMs: cfg.jwks.cooldownMs,
      maxStaleMs: cfg.jwks.maxStaleMs,
      onLoad: ({ ok, keys: n, error, trigger }) => {
        metrics.jwksFetches.inc({ issuer: cfg.issuer, result: ok ? 'success' : 'failure' });
        if (ok) {
          metrics.jwksKeys.set({ issuer: cfg.issuer }, n ?? 0);
          logger.debug('jwks loaded', { issuer: cfg.issuer, keys: n, trigger });
        } else {
          logger.warn('jwks load failed', { issuer: cfg.issuer, trigger, error });
        }
        deps.readiness.recheck();
      },
    });
    return { policy: cfg, keys };
  });
  for (const t of trusted) {
    deps.readiness.register(`jwks:${t.policy.issuer}`, () => ({
      ready: t.keys.isUsable(),
      detail: t.keys.isUsable() ? `${t.keys.size} keys` : 'key set not loaded',
    }));
  }
  metrics.onCollect(metrics.jwksAge, () => {
    for (const t of trusted) metrics.jwksAge.set({ issuer: t.policy.issuer }, t.keys.ageSeconds());
  });
  const verifier = new TokenVerifier({
    issuers: trusted,
    clock,
    maxTokenBytes: config.maxTokenBytes,
    clockToleranceSeconds: config.clockToleranceSeconds,
  });
  const verifiedCache = new VerifiedTokenCache(
    config.verifiedCacheSize,
    clock,
    config.verifiedCacheMaxBytes,
  );
  const hits = metrics.verifiedCacheCounts.child({ result: 'hit' });
  const misses = metrics.verifiedCacheCounts.child({ result: 'miss' });
  return {
    sources: trusted.map((t) => t.keys),
    verifier,
    verifiedCache,
    observeVerifiedCache: (r) => (r === 'hit' ? hits.inc() : misses.inc()),
    exchange: exchangeSetup(config, verifier, deps.exchangeClient, clock, logger),
  };
}
