import type { Clock, Timers } from '../clock.js';
import type { OutboundConfig } from '../config/sections/outbound.js';
import type { AudienceAllowlist } from '../check/outbound/inject-token.js';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import { urlForLog } from '../net/url-for-log.js';
import { SAGA_ID_TOKEN_TYPE } from '../sagas/saga-id.js';
import { DelegatedTokenCache } from '../tokens/delegated-token-cache.js';
import type { MtlsFilesEvent } from '../tokens/mtls-files.js';
import { discoverTokenEndpoint } from '../tokens/server-metadata.js';
import type { RemoteServiceTokens, ServiceTokenSource } from '../tokens/remote-service-tokens.js';
import {
  ServiceTokenCache,
  type CachedServiceToken,
  type TokenKey,
} from '../tokens/service-token-cache.js';
import { TokenEndpointClient, type TokenTarget } from '../tokens/token-client.js';
import { TokenRequestError } from '../tokens/token-errors.js';
import {
  DiscoveredTokenEndpoint,
  staticTokenEndpoint,
  type TokenEndpointSource,
} from '../tokens/token-endpoint-source.js';
import type { Readiness } from '../readiness.js';

type Deps = {
  clock: Clock;
  timers: Timers;
  metrics: SidecarMetrics;
  logger: Logger;
  readiness: Readiness;
  /** Worker processes: service tokens from the primary's cache instead of a cache of their own. */
  remoteTokens?: RemoteServiceTokens | undefined;
  /** Primary process: called with every token the cache stores, to pass on to the workers. */
  onStored?: ((token: CachedServiceToken) => void) | undefined;
};

/**
 * tokenUrl as configured, or the token endpoint from the issuer's RFC 8414 metadata: loaded at
 * start (readiness gate `token-endpoint`), refreshed, retried with the cache's backoff.
 */
function tokenEndpoint(
  config: OutboundConfig,
  client: () => TokenEndpointClient,
  deps: Deps,
): TokenEndpointSource {
  const te = config.tokenExchange;
  if (te.tokenUrl) return staticTokenEndpoint(te.tokenUrl);
  const issuer = te.issuer!;
  const where = urlForLog(issuer);
  const source = new DiscoveredTokenEndpoint({
    load: () => {
      const tls = client().tlsMaterial();
      return discoverTokenEndpoint(issuer, {
        timeoutMs: te.timeoutMs,
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca ? { ca: tls.ca } : {}),
      });
    },
    clock: deps.clock,
    timers: deps.timers,
    refreshMs: te.discoveryRefreshMs,
    minBackoffMs: config.cache.minBackoffMs,
    maxBackoffMs: config.cache.maxBackoffMs,
    onLoad: (e) => {
      if (e.ok && e.changed) {
        deps.logger.info('token endpoint discovered', {
          issuer: where,
          metadata: urlForLog(e.endpoint.metadataUrl),
          tokenEndpoint: urlForLog(e.endpoint.tokenEndpoint),
          mtlsAlias: e.endpoint.mtlsAlias,
        });
      } else if (!e.ok) {
        deps.logger.warn(
          e.stale
            ? 'authorization server metadata could not be reloaded; keeping the known token endpoint'
            : 'authorization server metadata unavailable; no token endpoint yet',
          { issuer: where, error: e.error, retryInMs: Math.round(e.retryInMs) },
        );
      }
    },
  });
  deps.readiness.register('token-endpoint', () => ({
    ready: source.known,
    detail: source.known ? 'discovered' : `metadata of ${where} not loaded`,
  }));
  return source;
}

/** The target sent for an audience: its RFC 8707 resource when configured. */
function targets(config: OutboundConfig): (audience: string) => TokenTarget {
  const resources = new Map(config.audiences.map((a) => [a.audience, a.resource]));
  return (audience) => {
    const resource = resources.get(audience);
    return resource ? { resource, audience } : { audience };
  };
}

/** What the outbound phases need: the allowlist and the token caches. */
export interface OutboundTokens {
  /** audience → scopes routes may ask for. */
  readonly allowlist: AudienceAllowlist;
  /** Service tokens: this process's cache, or (in a worker) the primary's. */
  readonly serviceTokens: ServiceTokenSource;
  /** Saga-delegated tokens (docs/delegation.md). */
  readonly delegated: DelegatedTokenCache;
  /** The request header that carries the saga id. */
  readonly sagaIdHeader: string;
}

export interface Outbound {
  /** For the outbound phases; undefined without an outbound section (no token is ever injected). */
  readonly tokens: OutboundTokens | undefined;
  /** The token-exchange client, shared with the inbound exchange phase. */
  readonly client: TokenEndpointClient | undefined;
  /** The service-token cache (undefined in a worker, whose tokens come from the primary). */
  readonly cache: ServiceTokenCache | undefined;
  /** Starts prefetching the configured audiences (readiness waits for them). */
  start(): void;
  stop(): void;
}

/** Logs which client certificate is in use, and a renewal written one file at a time. */
function logCertificate(logger: Logger) {
  return (event: MtlsFilesEvent): void => {
    if (event.kind === 'loaded') {
      const { certificate, serial, notAfter } = event;
      logger.info('client certificate loaded', { certificate, serial, notAfter });
    } else {
      logger.warn('client certificate files do not match', { error: event.error });
    }
  };
}

/** Builds the token client and the token caches of the outbound direction from config. */
export function setupOutbound(config: OutboundConfig | undefined, deps: Deps): Outbound {
  if (!config) {
    return {
      tokens: undefined,
      client: undefined,
      cache: undefined,
      start() {},
      stop() {},
    };
  }
  const { clock, logger } = deps;
  const endpoint = tokenEndpoint(config, () => client, deps);
  const client = new TokenEndpointClient(
    config.tokenExchange,
    clock,
    endpoint,
    logCertificate(logger),
  );
  const target = targets(config);
  const cache = deps.remoteTokens ? undefined : localCache(config, client, target, deps);
  const tokens = deps.remoteTokens ?? cache!;
  const allowlist: AudienceAllowlist = new Map(
    config.audiences.map((a) => [a.audience, new Set(a.scopes)]),
  );
  const warm: TokenKey[] = config.audiences
    .filter((a) => a.prefetch)
    .map((a) => ({ audience: a.audience, scope: '' }));
  for (const key of warm) {
    deps.readiness.register(`service-token:${key.audience}`, () => ({
      ready: tokens.isWarm(key),
      detail: tokens.isWarm(key) ? 'cached' : 'no service token yet',
    }));
  }
  const delegated = delegatedTokens(config, client, target, deps);
  const sagaIdHeader = config.delegation.sagaIdHeader;
  return {
    tokens: { allowlist, serviceTokens: tokens, delegated, sagaIdHeader },
    client,
    cache,
    start: () => {
      endpoint.start();
      if (cache) void cache.prefetch(warm);
    },
    stop: () => {
      endpoint.stop();
      cache?.stop();
      delegated.stop();
    },
  };
}

/** The service-token cache of a single process or of the primary, with its metrics and logs. */
function localCache(
  config: OutboundConfig,
  client: TokenEndpointClient,
  target: (audience: string) => TokenTarget,
  deps: Deps,
): ServiceTokenCache {
  const { metrics, logger } = deps;
  const c = config.cache;
  const cache = new ServiceTokenCache({
    fetch: (key) => client.serviceToken(target(key.audience), key.scope || undefined),
    clock: deps.clock,
    timers: deps.timers,
    settings: { ...c, safetyMarginMs: c.safetyMarginSeconds * 1000 },
    events: {
      exchanged(audience, result, seconds, error) {
        metrics.serviceTokenExchanges.inc({ audience, result });
        metrics.serviceTokenExchangeDuration.observe(seconds);
        if (error) {
          const detail = error instanceof TokenRequestError ? error.detail : undefined;
          logger.warn('service token exchange failed', { audience, result, error, detail });
        }
        deps.readiness.recheck();
      },
      refreshed: (audience, result) => metrics.serviceTokenRefreshes.inc({ audience, result }),
      servedStale: (audience) => metrics.serviceTokenServedStale.inc({ audience }),
      waited: (audience) => metrics.serviceTokenWaits.inc({ audience }),
      shortLived: (audience, lifetimeSeconds) =>
        logger.warn(
          'service tokens do not outlive cache.safetyMarginSeconds; they cannot be served from cache',
          {
            audience,
            lifetimeSeconds,
            safetyMarginSeconds: c.safetyMarginSeconds,
          },
        ),
      stored: deps.onStored,
    },
  });
  metrics.onCollect(metrics.serviceTokenExpiry, () => {
    for (const e of cache.expiries())
      metrics.serviceTokenExpiry.set({ audience: e.audience }, e.seconds);
  });
  return cache;
}

/** The per-saga token cache (docs/delegation.md), its metrics and its log lines. */
function delegatedTokens(
  config: OutboundConfig,
  client: TokenEndpointClient,
  target: (audience: string) => TokenTarget,
  deps: Deps,
): DelegatedTokenCache {
  const { metrics, logger } = deps;
  const c = config.cache;
  const d = config.delegation;
  const cache = new DelegatedTokenCache({
    // RFC 8693 delegation: the saga id is the subject, the mTLS client the actor.
    fetch: (key) =>
      client.exchange(key.sagaId, {
        target: target(key.audience),
        subjectTokenType: SAGA_ID_TOKEN_TYPE,
      }),
    clock: deps.clock,
    timers: deps.timers,
    settings: {
      maxEntries: d.maxEntries,
      idleMs: d.idleMs,
      refusalTtlMs: d.refusalTtlMs,
      refreshAt: c.refreshAt,
      jitter: c.jitter,
      safetyMarginMs: c.safetyMarginSeconds * 1000,
      minBackoffMs: c.minBackoffMs,
      maxBackoffMs: c.maxBackoffMs,
    },
    events: {
      looked: (audience, result) => metrics.delegatedTokenLookups.inc({ audience, result }),
      exchanged(key, result, seconds, error) {
        metrics.delegatedTokenExchanges.inc({ audience: key.audience, result });
        metrics.delegatedTokenExchangeDuration.observe(seconds);
        // Saga ids are fine in logs (never in metrics); the message never carries a token.
        // token-exchange's description (why the saga was refused) goes here, never to the deny.
        if (error) {
          const detail = error.detail;
          logger.info('delegated token not issued', { ...key, result, error, detail });
        }
      },
      refreshed: (audience, result) => metrics.delegatedTokenRefreshes.inc({ audience, result }),
      evicted: (reason) => metrics.delegatedTokenEvictions.inc({ reason }),
    },
  });
  metrics.onCollect(metrics.delegatedTokenEntries, () =>
    metrics.delegatedTokenEntries.set(cache.size()),
  );
  return cache;
}
