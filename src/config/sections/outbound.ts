import * as z from 'zod';
import {
  durationMs,
  filePath,
  issuerUrl,
  resourceIndicator,
  secureUrl,
  type SchemaContext,
} from '../fields.js';

/**
 * How the sidecar reaches the authorization server (token-exchange, or any RFC 6749 server):
 * mutual TLS (RFC 8705 tls_client_auth), the client certificate names this service.
 */
const tokenExchange = (ctx: SchemaContext) =>
  z
    .strictObject({
      /** RFC 6749 token endpoint, e.g. https://token-exchange:8443/token (or `issuer`). */
      tokenUrl: secureUrl.optional(),
      /**
       * The server's issuer identifier: the token endpoint comes from its RFC 8414 metadata
       * (mtls_endpoint_aliases.token_endpoint when present), loaded at start and refreshed.
       */
      issuer: issuerUrl.optional(),
      /** How often the metadata is loaded again (issuer only). */
      discoveryRefreshMs: durationMs(86_400_000).default(3_600_000),
      /** Sent as client_id; RFC 8705 §2 requires it for tls_client_auth. */
      clientId: z.string().min(1).max(256).optional(),
      /** Client certificate and key (PEM); re-read when the files change, so rotation needs no restart. */
      certFile: filePath(ctx),
      keyFile: filePath(ctx),
      /** CA bundle that signs the server's certificate (default: system CAs). */
      caFile: filePath(ctx).optional(),
      /** Deadline of one token request or metadata fetch (connect, TLS, answer). */
      timeoutMs: durationMs(60_000).default(2_000),
    })
    .refine((t) => (t.tokenUrl === undefined) !== (t.issuer === undefined), {
      message: 'set exactly one of tokenUrl or issuer',
    });

const audience = z.strictObject({
  /**
   * The target service as routes name it (`jwtexchange.audience`); sent as `audience` and
   * expected in the token's `aud`, unless `resource` is set.
   */
  audience: z.string().min(1),
  /** RFC 8707 resource indicator sent instead of `audience` and expected in `aud` instead. */
  resource: resourceIndicator.optional(),
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

/**
 * Saga-scoped delegated tokens (docs/delegation.md) for routes tagged `jwtexchange.delegation:
 * saga`. Refresh, margin and backoff come from `cache`; these settings bound the per-saga cache.
 */
const headerName = z
  .string()
  .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a lower-case HTTP header name');

const delegation = z
  .strictObject({
    /** The request header carrying the saga id. */
    sagaIdHeader: headerName.default('x-saga-id'),
    /** Most (audience, saga) entries cached; the least recently used goes first. */
    maxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
    /** An entry not used for this long is dropped and no longer refreshed. */
    idleMs: durationMs(86_400_000).default(600_000),
    /** How long token-exchange's refusal of a saga is remembered (brief: the saga may be fixed). */
    refusalTtlMs: durationMs(600_000).default(5_000),
  })
  .prefault({});

export const outboundSection = (ctx: SchemaContext) =>
  z
    .strictObject({
      tokenExchange: tokenExchange(ctx),
      /** The audience allowlist: a route naming any other audience is denied. */
      audiences: z.array(audience).default([]),
      cache,
      delegation,
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
