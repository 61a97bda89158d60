/**
 * A service name as it appears in certificates (CN, DNS SAN, last segment of the SPIFFE URI)
 * and on the token-exchange allowlist. Restricted to DNS-label characters so the same name is
 * valid in every one of those places and can never smuggle a path or a separator.
 */
const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isServiceName(value: string): boolean {
  return SERVICE_NAME.test(value);
}

export const DEFAULT_SPIFFE_PREFIX = 'spiffe://jwtexchange.dev/';
