import type { ServerResponse } from 'node:http';
import { sendJson } from './http-io.js';
import type { KeyStore } from './key-store.js';
import {
  GRANT_CLIENT_CREDENTIALS,
  GRANT_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from './token-request.js';

export const TOKEN_PATH = '/token';
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Where the metadata is served: at the root, and — for an issuer with a path — where RFC 8414
 * §3.1 (`/.well-known/oauth-authorization-server/<path>`) and OpenID Discovery
 * (`/<path>/.well-known/openid-configuration`) look for it.
 */
export function discoveryPaths(issuer: string): string[] {
  const path = withoutTrailingSlashes(new URL(issuer).pathname);
  const paths = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
  if (path !== '') {
    paths.push(`/.well-known/oauth-authorization-server${path}`);
    paths.push(`${path}/.well-known/openid-configuration`);
  }
  return paths;
}

/**
 * RFC 8414 authorization server metadata (also served at the OpenID discovery path). Every
 * endpoint needs the client certificate, so the RFC 8705 §5 mTLS alias is the endpoint itself.
 */
export function discoveryDocument(issuer: string, baseUrl: string): Record<string, unknown> {
  const tokenEndpoint = `${baseUrl}${TOKEN_PATH}`;
  return {
    issuer,
    token_endpoint: tokenEndpoint,
    jwks_uri: `${baseUrl}${JWKS_PATH}`,
    grant_types_supported: [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE],
    token_endpoint_auth_methods_supported: ['tls_client_auth'],
    mtls_endpoint_aliases: { token_endpoint: tokenEndpoint },
    tls_client_certificate_bound_access_tokens: false,
    token_types_supported: [TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT],
    access_token_signing_alg_values_supported: ['ES256'],
  };
}

/**
 * The public keys. Verifiers cache them, but only briefly: the next key is announced
 * publishAheadSeconds before it signs, and a cache must not outlive that window.
 */
export function sendJwks(res: ServerResponse, keyStore: KeyStore, maxAgeSeconds: number): void {
  sendJson(res, 200, keyStore.jwks(), { 'cache-control': `public, max-age=${maxAgeSeconds}` });
}

/** `/a/b//` → `/a/b`, by a backwards scan: `/\/+$/` is quadratic on a long run of slashes. */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}
