import { z } from 'zod';
import { durationMs, filePath, secureUrl, type SchemaContext } from '../fields.js';

/** How the sidecar reaches token-exchange: mTLS, the client certificate names this service. */
const tokenExchange = (ctx: SchemaContext) =>
  z.strictObject({
    /** RFC 6749 token endpoint, e.g. https://token-exchange:8443/token */
    tokenUrl: secureUrl,
    /** Client certificate and key (PEM); re-read when the files change, so rotation needs no restart. */
    certFile: filePath(ctx),
    keyFile: filePath(ctx),
    /** CA bundle that signs token-exchange's server certificate (default: system CAs). */
    caFile: filePath(ctx).optional(),
    /** Deadline of one token request (connect, TLS, answer). */
    timeoutMs: durationMs(60_000).default(2_000),
  });

const audience = z.strictObject({
  /** The `aud` of the service token, named by routes with `jwtexchange.audience`. */
  audience: z.string().min(1),
  /** Scopes routes may ask for with `jwtexchange.scope` (none by default). */
  scopes: z.array(z.string().min(1)).default([]),
  /** Fetch at start; /readyz stays not ready until a token for it is cached. */
  prefetch: z.boolean().default(true),
});

const cache = z
  .strictObject({
    /** Refresh in the background at this fraction of the token lifetime… */
    refreshAt: z.number().gt(0).lt(1).default(0.5),
    /** …moved by up to ± this fraction of it, so many sidecars do not refresh together. */
    jitter: z.number().min(0).max(0.5).default(0.1),
    /** A cached token is used only until exp minus this margin, never later. */
    safetyMarginSeconds: z.number().int().min(0).max(3_600).default(30),
    /** Exponential backoff between failed refreshes (with jitter). */
    minBackoffMs: durationMs().default(500),
    maxBackoffMs: durationMs().default(30_000),
    /** How long a deterministic refusal (unauthorized_client, invalid_target…) is remembered. */
    refusalTtlMs: durationMs().default(30_000),
  })
  .prefault({})
  .refine((c) => c.minBackoffMs <= c.maxBackoffMs, {
    message: 'minBackoffMs must not exceed maxBackoffMs',
  });

export const outboundSection = (ctx: SchemaContext) =>
  z
    .strictObject({
      tokenExchange: tokenExchange(ctx),
      /** The audience allowlist: a route naming any other audience is denied. */
      audiences: z.array(audience).default([]),
      cache,
    })
    .superRefine((o, issue) => {
      const seen = new Set<string>();
      o.audiences.forEach((a, i) => {
        if (seen.has(a.audience))
          issue.addIssue({
            code: 'custom',
            path: ['audiences', i, 'audience'],
            message: `duplicate audience ${JSON.stringify(a.audience)}`,
          });
        seen.add(a.audience);
      });
    })
    .optional();

export type OutboundConfig = NonNullable<z.output<ReturnType<typeof outboundSection>>>;
export type TokenExchangeConfig = OutboundConfig['tokenExchange'];
