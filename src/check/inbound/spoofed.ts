import { IDENTITY_HEADER_PREFIX } from '../../jwt/identity.js';
import type { HeaderList } from '../decision.js';

/**
 * Client-supplied x-jwtauth-* headers: removed from every inbound request, whatever the
 * decision, except those the sidecar itself sets (Envoy applies removals after sets, so listing a
 * header in both would delete the verified value).
 */
export function spoofedHeaders(
  headers: Readonly<Record<string, string>>,
  setting: HeaderList,
): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name.startsWith(IDENTITY_HEADER_PREFIX) && !setting.some(([k]) => k === name))
      out.push(name);
  }
  return out;
}
