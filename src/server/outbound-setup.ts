import type { Clock, Timers } from '../clock.js';
import type { OutboundConfig } from '../config/sections/outbound.js';
import type { DirectionCheck } from '../check/handler.js';
import { injectServiceTokenPhase, type AudienceAllowlist } from '../check/outbound/inject-token.js';
import { outboundWithoutTokens } from '../check/outbound/outbound-check.js';
import { createPipeline } from '../check/pipeline.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ServiceTokenCache, type TokenKey } from '../tokens/service-token-cache.js';
import { TokenEndpointClient } from '../tokens/token-client.js';
import type { Readiness } from './readiness.js';

export interface Outbound {
  readonly check: DirectionCheck;
  /** The token-exchange client, shared with the inbound exchange phase. */
  readonly client: TokenEndpointClient | undefined;
  /** Starts prefetching the configured audiences (readiness waits for them). */
  start(): void;
  stop(): void;
}

/** Builds the token client, the service-token cache and the outbound pipeline from config. */
export function setupOutbound(
  config: OutboundConfig | undefined,
  deps: { clock: Clock; timers: Timers; metrics: Metrics; logger: Logger; readiness: Readiness },
): Outbound {
  if (!config) return { check: outboundWithoutTokens, client: undefined, start() {}, stop() {} };
  const { clock, metrics, logger } = deps;
  const client = new TokenEndpointClient(config.tokenExchange, clock);
  const c = config.cache;
  const cache = new ServiceTokenCache({
    fetch: (key) => client.serviceToken(key.audience, key.scope || undefined),
    clock,
    timers: deps.timers,
    settings: { ...c, safetyMarginMs: c.safetyMarginSeconds * 1000 },
    events: {
      exchanged(audience, result, seconds, error) {
        metrics.serviceTokenExchanges.inc({ audience, result });
        metrics.serviceTokenExchangeDuration.observe(seconds);
        if (error) logger.warn('service token exchange failed', { audience, result, error });
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
    },
  });
  metrics.onCollect(metrics.serviceTokenExpiry, () => {
    for (const e of cache.expiries())
      metrics.serviceTokenExpiry.set({ audience: e.audience }, e.seconds);
  });
  const allowlist: AudienceAllowlist = new Map(
    config.audiences.map((a) => [a.audience, new Set(a.scopes)]),
  );
  const warm: TokenKey[] = config.audiences
    .filter((a) => a.prefetch)
    .map((a) => ({ audience: a.audience, scope: '' }));
  for (const key of warm) {
    deps.readiness.register(`service-token:${key.audience}`, () => ({
      ready: cache.isWarm(key),
      detail: cache.isWarm(key) ? 'cached' : 'no service token yet',
    }));
  }
  const pipeline = createPipeline(
    [injectServiceTokenPhase(allowlist, cache)],
    'injected',
    (phase, s) => metrics.phaseDuration.observe({ phase }, s),
  );
  return {
    check: (ctx, explain) => pipeline.run(ctx, explain),
    client,
    start: () => void cache.prefetch(warm),
    stop: () => cache.stop(),
  };
}
