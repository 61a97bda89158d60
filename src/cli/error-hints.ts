/**
 * What an operator should check when token-exchange refuses a request or cannot be reached.
 * Used by `jwtexchange token`; kept apart so every hint is tested and documented in one place.
 */
const REFUSAL_HINTS: Record<string, string[]> = {
  invalid_client: [
    'the client certificate must be signed by the CA token-exchange trusts (tls.clientCaFile)',
    'pass it with --cert and --key; a certificate from another CA is rejected',
    'the certificate must carry exactly one service name in the field clientIdentity.source names',
    'a client_id, when sent, must be that same service name',
  ],
  unauthorized_client: [
    'the service named by the client certificate must be on the allowlist: the token-exchange ' +
      'config `allowlist`, or the ENABLED_TLS_SERVICE_NAME environment variable',
    'delegation (actor_token) also needs `delegate: true` for the service',
  ],
  invalid_target: [
    'the audience (or resource URI) must be listed for the service under services.<name>.audiences',
    'ask for exactly one target: one --audience or one --resource (an absolute URI, no fragment)',
  ],
  invalid_request: [
    'a subject token must be valid: trusted issuer (subjectIssuers), not expired, aud accepted',
    'it must be sent with --subject-token-type (jwt or access_token)',
    'a saga id (--subject-token-type saga-id) needs saga:<id>#initiator and #executor relations ' +
      'in SpiceDB naming the calling service, unexpired (docs/delegation.md)',
  ],
  unsupported_grant_type: ['use client_credentials or the RFC 8693 token-exchange grant'],
  invalid_scope: ['do not send a scope: token-exchange issues no scopes'],
  server_error: ['see the token-exchange logs; a subject issuer key set may be unreachable'],
};

export function refusalHints(error: string): string[] {
  return REFUSAL_HINTS[error] ?? ['see the error description above and the token-exchange logs'];
}

/** OpenSSL / Node error codes seen when the client does not trust the server. */
const UNTRUSTED_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** Hints for a request that never got an answer (connection, TLS, timeout). */
export function transportHints(code: string | undefined, url: string): string[] {
  if (code === 'ECONNREFUSED') return [`nothing listens at ${url}: is token-exchange running?`];
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return [`the host of ${url} does not resolve`];
  if (code !== undefined && UNTRUSTED_SERVER.has(code)) {
    return [
      'the server certificate is not signed by the CA given with --ca',
      "use the CA that signed token-exchange's tls.certFile (dev PKI: ca.pem)",
    ];
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return [
      `the server certificate does not name the host of ${url}; use a host it lists in its SAN`,
    ];
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return [
      'the server certificate is outside its validity period; check both clocks and reissue it',
    ];
  }
  if (code === 'ECONNRESET' || code === 'EPROTO') {
    return [
      'the TLS handshake failed: token-exchange requires TLS 1.2+ and may have dropped the connection',
      'check --cert/--key belong together and that --sts uses https',
    ];
  }
  return ['check the URL, the network path and the token-exchange logs'];
}
