import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { fileJwksLoader, httpJwksLoader, JwksSource } from '../jwt/jwks-source.js';
import type { TrustedIssuer } from '../jwt/verifier.js';
import type { Logger } from '../log.js';
import type { TokenExchangeMetrics } from '../metrics/token-exchange.js';
import type { SubjectIssuerConfig } from './config.js';

/**
 * Key sources for the issuers whose tokens may be exchanged (auth.service). They reuse the
 * sidecar's JWKS machinery: background refresh, refetch on unknown kid, bounded staleness.
 */
export function createSubjectIssuers(
  configs: readonly SubjectIssuerConfig[],
  deps: { clock: Clock; logger: Logger; metrics: TokenExchangeMetrics },
): TrustedIssuer[] {
  return configs.map((config) => {
    const ca = config.jwksCaFile ? readFileSync(config.jwksCaFile) : undefined;
    const load = config.jwksUri
      ? httpJwksLoader(config.jwksUri, config.jwks.timeoutMs, ca)
      : fileJwksLoader(config.jwksFile!);
    const keys = new JwksSource({
      name: config.issuer,
      load,
      clock: deps.clock,
      ...config.jwks,
      onLoad: ({ ok, keys: count, error, trigger }) => {
        deps.metrics.jwksFetches.inc({ issuer: config.issuer, result: ok ? 'success' : 'failure' });
        if (ok)
          deps.logger.debug('subject issuer keys loaded', {
            issuer: config.issuer,
            keys: count,
            trigger,
          });
        else
          deps.logger.warn('subject issuer keys failed to load', {
            issuer: config.issuer,
            trigger,
            error,
          });
      },
    });
    return { policy: config, keys };
  });
}
