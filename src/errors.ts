import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The closed set of reason codes. Every decision the sidecar makes carries one; it is the
 * `reason` label of metrics and logs, the `x-jwtauth-reason` header of denials, and the key of
 * the table in docs/reasons.md (a test keeps the two in sync).
 */
export const REASONS = {
  // Allows.
  allowed: { grpc: GrpcStatus.OK, http: 200, summary: 'inbound token verified (and authorized)' },
  exempt: { grpc: GrpcStatus.OK, http: 200, summary: 'route exempted from inbound checks' },
  passthrough: { grpc: GrpcStatus.OK, http: 200, summary: 'outbound route not tagged' },
  injected: { grpc: GrpcStatus.OK, http: 200, summary: 'service token injected on outbound' },
  delegated: {
    grpc: GrpcStatus.OK,
    http: 200,
    summary: 'saga-scoped delegated token injected on outbound',
  },
  dry_run: {
    grpc: GrpcStatus.OK,
    http: 200,
    summary: 'a denial was turned into an allow by dry-run',
  },

  // Inbound authentication failures: 401 + WWW-Authenticate.
  missing_token: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'no bearer token in the authorization header',
  },
  malformed_token: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'the token is not a compact JWS JWT (bad encoding, JWE, nested, duplicate claims)',
  },
  token_too_large: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'the token exceeds inbound.maxTokenBytes',
  },
  unknown_issuer: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'iss is not one of the configured issuers',
  },
  algorithm_not_allowed: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'alg is not in the issuer allowlist (includes none)',
  },
  forbidden_header: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'the JWS header carries jwk/jku/x5u/x5c, crit or b64 which are never trusted',
  },
  unknown_key: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'no key in the issuer JWKS matches kid/alg',
  },
  invalid_signature: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'the signature does not verify',
  },
  token_expired: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, summary: 'exp is in the past' },
  token_not_yet_valid: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'nbf or iat is in the future',
  },
  invalid_audience: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'aud does not name an accepted audience',
  },
  invalid_claims: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'a required claim is missing or has the wrong type, or typ does not match',
  },
  jwks_unavailable: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'the issuer JWKS could not be loaded and no usable copy is cached',
  },

  token_exchange_refused: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    summary: 'token-exchange refused to exchange the caller token for an internal one',
  },
  token_exchange_unavailable: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'token-exchange could not be reached to exchange the caller token',
  },

  // Authorization.
  permission_denied: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    summary: 'SpiceDB says the subject lacks the permission',
  },
  no_matching_rule: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    summary: 'no authorization rule matched and the default is deny',
  },
  invalid_object_id: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    summary: 'a subject or resource id is empty or too long for SpiceDB after encoding',
  },
  spicedb_unavailable: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'SpiceDB failed or did not answer within the deadline',
  },

  // Outbound injection.
  audience_not_allowed: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    summary: 'the route asks for an audience that is not on outbound.audiences',
  },
  service_token_refused: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'token-exchange refused to issue the service token (RFC 6749 error)',
  },
  service_token_invalid: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary:
      'the token answer is unusable: token_type not Bearer, no access_token or lifetime, or aud lacks the target',
  },
  service_token_unavailable: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'no valid service token: token-exchange unreachable and the cached one expired',
  },

  // Outbound saga delegation (docs/delegation.md).
  invalid_saga_id: {
    grpc: GrpcStatus.INVALID_ARGUMENT,
    http: 400,
    summary: 'a delegation route got no saga id, or one that is not a short SpiceDB-safe id',
  },
  delegation_refused: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    summary:
      'token-exchange refused the delegated token (not our saga, no single initiator, expired)',
  },
  delegation_unavailable: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    summary: 'no delegated token: token-exchange or its SpiceDB unreachable, none cached',
  },

  // Anything else.
  bad_request: {
    grpc: GrpcStatus.INVALID_ARGUMENT,
    http: 400,
    summary: 'the CheckRequest lacks HTTP attributes or has an invalid context extension',
  },
  internal: {
    grpc: GrpcStatus.INTERNAL,
    http: 500,
    summary: 'an unexpected error; the request is denied (fail closed)',
  },
} as const satisfies Record<string, { grpc: GrpcStatus; http: number; summary: string }>;

export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

/**
 * The one sentence a caller is ever shown for a code (deny body, gRPC status message,
 * WWW-Authenticate error_description). Fixed per code, so no address, file path, upstream
 * error_description or claim value can reach a caller; a decision's own message, with those
 * details, goes only to the log, next to the request id (docs/security.md).
 */
export const CALLER_MESSAGES: Readonly<Record<ReasonCode, string>> = {
  allowed: 'allowed',
  exempt: 'allowed (exempt route)',
  passthrough: 'allowed (untagged route)',
  injected: 'allowed (service token injected)',
  delegated: 'allowed (delegated token injected)',
  dry_run: 'allowed (dry-run)',
  missing_token: 'a bearer token is required',
  malformed_token: 'the bearer token is malformed',
  token_too_large: 'the bearer token is too large',
  unknown_issuer: 'the token issuer is not trusted',
  algorithm_not_allowed: 'the token signing algorithm is not accepted',
  forbidden_header: 'the token header carries a parameter that is not accepted',
  unknown_key: 'no trusted key matches the token',
  invalid_signature: 'the token signature does not verify',
  token_expired: 'the token has expired',
  token_not_yet_valid: 'the token is not valid yet',
  invalid_audience: 'the token is not meant for this service',
  invalid_claims: 'the token claims are not acceptable',
  jwks_unavailable: 'the token cannot be verified right now',
  token_exchange_refused: 'the token was refused by token exchange',
  token_exchange_unavailable: 'token exchange is unavailable',
  permission_denied: 'permission denied',
  no_matching_rule: 'no authorization rule allows this request',
  invalid_object_id: 'the request names an id that cannot be authorized',
  spicedb_unavailable: 'authorization is unavailable',
  audience_not_allowed: 'this route may not carry a service token',
  service_token_refused: 'no service token could be obtained',
  service_token_invalid: 'no usable service token could be obtained',
  service_token_unavailable: 'no service token is available',
  invalid_saga_id: 'the request carries no usable saga id',
  delegation_refused: 'no delegated token could be obtained',
  delegation_unavailable: 'no delegated token is available',
  bad_request: 'the request is malformed',
  internal: 'internal error',
};

/**
 * An error that already knows how the sidecar should answer. Its message is for the operator's log
 * (it may name files, addresses, rules; never a secret); callers see only CALLER_MESSAGES[code].
 */
export class JwtxError extends Error {
  readonly code: ReasonCode;

  constructor(code: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwtxError';
    this.code = code;
  }
}

/** Raised by configuration loading; `path` names the offending key (e.g. `inbound.issuers[0].jwksUri`). */
export class ConfigError extends Error {
  readonly problems: readonly { path: string; message: string }[];

  constructor(problems: readonly { path: string; message: string }[]) {
    super(
      'invalid configuration:\n' +
        problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
