import * as z from 'zod';
import {
  durationMs,
  filePath,
  resourceIndicator,
  secureUrl,
  type SchemaContext,
} from '../fields.js';

/** Asymmetric algorithms only: an HMAC key would be shared with every verifier. */
export const ALLOWED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;

const jwksSettings = () =>
  z
    .strictObject({
      /** Background refresh period. */
      refreshIntervalMs: durationMs().default(300_000),
      /**
       * Minimum time between on-demand refetches (unknown kid, or no usable set); also the delay
       * before a failed load is retried.
       */
      cooldownMs: durationMs().default(30_000),
      /** How long a key set may be used after refreshes started failing. */
      maxStaleMs: durationMs(7 * 86_400_000).default(86_400_000),
      /** Timeout of one JWKS fetch. */
      timeoutMs: durationMs(60_000).default(5_000),
    })
    .prefault({});

/**
 * One trusted JWT issuer and how to get its keys. Shared by inbound validation and by
 * token-exchange's subject-token issuers, so both are configured the same way.
 */
export const issuerFields = (ctx: SchemaContext) => ({
  /** Exact `iss` value. */
  issuer: z.string().min(1),
  jwksUri: secureUrl.optional(),
  jwksFile: filePath(ctx).optional(),
  /** PEM bundle that signs the JWKS endpoint's certificate (default: system CAs). */
  jwksCaFile: filePath(ctx).optional(),
  /** Accepted `aud` values; at least one must be present in the token. */
  audiences: z.array(z.string().min(1)).min(1),
  algorithms: z.array(z.enum(ALLOWED_ALGORITHMS)).min(1).default(['ES256']),
  /** Required JWS `typ` header (e.g. `at+jwt`), compared case-insensitively. */
  typ: z.string().min(1).optional(),
  /** Claims that must be present besides iss, aud, exp. */
  requiredClaims: z.array(z.string().min(1)).default([]),
  jwks: jwksSettings(),
});

export const oneKeySource = [
  (i: { jwksUri?: string | undefined; jwksFile?: string | undefined }) =>
    (i.jwksUri === undefined) !== (i.jwksFile === undefined),
  { message: 'set exactly one of jwksUri or jwksFile' },
] as const;

/** RFC 8693 §3 token types a subject token may be sent as. */
const SUBJECT_TOKEN_TYPES = [
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:access_token',
] as const;

/**
 * How this issuer's tokens are exchanged (RFC 8693): for one target, named by `audience` or by
 * an RFC 8707 `resource`; the exchanged token must carry that target in `aud`.
 */
const exchange = z
  .strictObject({
    audience: z.string().min(1).optional(),
    resource: resourceIndicator.optional(),
    /** subject_token_type: `…:jwt` (default) or `…:access_token` (e.g. Keycloak). */
    subjectTokenType: z.enum(SUBJECT_TOKEN_TYPES).default(SUBJECT_TOKEN_TYPES[0]),
    /** requested_token_type; absent: not sent, the server chooses (RFC 8693 §2.1). */
    requestedTokenType: z.enum(SUBJECT_TOKEN_TYPES).optional(),
  })
  .refine((e) => (e.audience === undefined) !== (e.resource === undefined), {
    message: 'set exactly one of audience or resource',
  });

const issuer = (ctx: SchemaContext) =>
  z
    .strictObject({
      ...issuerFields(ctx),
      /**
       * Exchange this issuer's tokens (e.g. auth.service user tokens) at token-exchange for an
       * internal token with this audience before the app sees the request (RFC 8693). Needs
       * outbound.tokenExchange and the internal issuer in this list.
       */
      exchange: exchange.optional(),
      /**
       * This issuer is token-exchange, the one that mints service tokens: its tokens with
       * sub = client_id and no act are service tokens (x-jwtauth-kind, SpiceDB subject type).
       * Tokens of every other issuer are user tokens, whatever their claims.
       */
      serviceTokens: z.boolean().default(false),
    })
    .refine(...oneKeySource);

export const inboundSection = (ctx: SchemaContext) =>
  z
    .strictObject({
      /** enforce: deny as decided. dry-run: decide, log and count, but allow. */
      mode: z.enum(['enforce', 'dry-run']).default('enforce'),
      /** Tokens longer than this are refused before any parsing. */
      maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192),
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      /** Verified-token cache entries (each lives at most until the token's exp). */
      verifiedCacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
      /**
       * Memory bound of the verified-token cache, and of the exchanged-token cache, each (the
       * estimated bytes of the tokens, claims and headers held): large tokens evict sooner.
       */
      verifiedCacheMaxBytes: z
        .number()
        .int()
        .min(65_536)
        .max(4 * 1024 ** 3)
        .default(16 * 1024 ** 2),
      issuers: z.array(issuer(ctx)).default([]),
    })
    .prefault({})
    .superRefine((inb, issue) => {
      const seen = new Set<string>();
      inb.issuers.forEach((i, n) => {
        if (seen.has(i.issuer))
          issue.addIssue({
            code: 'custom',
            path: ['issuers', n, 'issuer'],
            message: `duplicate issuer ${JSON.stringify(i.issuer)}`,
          });
        seen.add(i.issuer);
      });
    });

export type InboundConfig = z.output<ReturnType<typeof inboundSection>>;
export type IssuerConfig = InboundConfig['issuers'][number];
export type ExchangeConfig = NonNullable<IssuerConfig['exchange']>;
/** The `aud` value an exchange asks for: its resource, or else its audience. */
export const exchangeTarget = (e: ExchangeConfig): string | undefined => e.resource ?? e.audience;
