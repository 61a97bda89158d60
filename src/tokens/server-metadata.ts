import { isLoopbackHost } from '../config/fields.js';
import { httpRequest, type HttpRequestOptions } from '../net/http-client.js';
import { urlForLog } from '../net/url-for-log.js';

/** Where the token endpoint was found, for logs. */
export interface DiscoveredEndpoint {
  readonly tokenEndpoint: string;
  /** The metadata document it came from. */
  readonly metadataUrl: string;
  /** true when RFC 8705 §5 mtls_endpoint_aliases.token_endpoint was used. */
  readonly mtlsAlias: boolean;
}

/**
 * The metadata locations for an issuer, in the order they are tried: RFC 8414 §3.1 (the
 * well-known segment goes between the host and the issuer's path), then OpenID Connect
 * Discovery 1.0 §4 (appended to the issuer), which many servers serve only.
 */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = withoutTrailingSlashes(u.pathname);
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}${path}/.well-known/openid-configuration`,
  ];
}

/** A usable endpoint URL from the metadata: https, or plain http on loopback only. */
function endpointUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const u = new URL(value);
  if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname)))
    return value;
  return undefined;
}

/** Checks one metadata document (RFC 8414 §3.3) and picks the token endpoint in it. */
export function tokenEndpointFromMetadata(
  issuer: string,
  document: unknown,
): { tokenEndpoint: string; mtlsAlias: boolean } {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new Error('the metadata is not a JSON object');
  }
  const m = document as Record<string, unknown>;
  // §3.3: the issuer in the document must be identical to the one the metadata was asked for,
  // or the document must not be used (it could come from another server).
  if (m.issuer !== issuer) throw new Error('the metadata names a different issuer');
  const aliases = m.mtls_endpoint_aliases;
  const alias =
    aliases !== null && typeof aliases === 'object'
      ? (aliases as Record<string, unknown>).token_endpoint
      : undefined;
  if (alias !== undefined) {
    const url = endpointUrl(alias);
    if (!url) throw new Error('mtls_endpoint_aliases.token_endpoint is not an https URL');
    return { tokenEndpoint: url, mtlsAlias: true };
  }
  const url = endpointUrl(m.token_endpoint);
  if (!url) throw new Error('the metadata has no https token_endpoint');
  return { tokenEndpoint: url, mtlsAlias: false };
}

/**
 * Loads the authorization server metadata and returns its token endpoint. Each location is
 * tried in turn; the first valid document wins. Errors name locations as origin + path only.
 */
export async function discoverTokenEndpoint(
  issuer: string,
  http: Omit<HttpRequestOptions, 'method' | 'body'>,
): Promise<DiscoveredEndpoint> {
  const problems: string[] = [];
  for (const metadataUrl of metadataUrls(issuer)) {
    try {
      const res = await httpRequest(metadataUrl, { ...http, maxBytes: 256 * 1024 });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      let document: unknown;
      try {
        document = JSON.parse(res.body);
      } catch {
        throw new Error('the answer is not JSON');
      }
      return { ...tokenEndpointFromMetadata(issuer, document), metadataUrl };
    } catch (err) {
      problems.push(`${urlForLog(metadataUrl)}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no usable authorization server metadata (${problems.join('; ')})`);
}

/** `/a/b//` → `/a/b`, by a backwards scan: `/\/+$/` is quadratic on a long run of slashes. */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(0, end);
}
