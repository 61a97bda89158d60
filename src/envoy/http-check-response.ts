import { ROUTE_HEADER } from './http-check-request.js';
import type { CheckResponse } from './types.js';

/**
 * A CheckResponse (built in check/response.ts, the one place decisions become Envoy answers)
 * spoken as Envoy's HTTP authorization service answer:
 *  - allow: 200; the headers to set on the upstream request (Envoy copies those matching
 *    `allowed_upstream_headers`), and `x-envoy-auth-headers-to-remove` naming what Envoy must
 *    strip from it (spoofed identity headers, and the route header, which is ours alone);
 *  - deny: the denial's status, headers and body (Envoy sends those matching
 *    `allowed_client_headers` to the client). Envoy treats a 5xx answer as an ext_authz error
 *    and answers `status_on_error` itself, so 5xx denials reach the caller without our body.
 */
export interface HttpCheckAnswer {
  readonly status: number;
  /** Name/value pairs, in order (Node's writeHead takes this flat list form). */
  readonly headers: string[];
  readonly body: string;
}

export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

export function toHttpCheckAnswer(res: CheckResponse): HttpCheckAnswer {
  if (res.ok_response) {
    const headers: string[] = [];
    for (const h of res.ok_response.headers) headers.push(h.header.key, h.header.value);
    const spoofed = res.ok_response.headers_to_remove;
    // Usually nothing was spoofed: the list is then the route header alone, with no join.
    headers.push(
      HEADERS_TO_REMOVE,
      spoofed.length === 0 ? ROUTE_HEADER : `${spoofed.join(',')},${ROUTE_HEADER}`,
    );
    return { status: 200, headers, body: '' };
  }
  const denied = res.denied_response;
  const headers: string[] = [];
  for (const h of denied?.headers ?? []) headers.push(h.header.key, h.header.value);
  // A denial without an HTTP status of its own (never built today) still denies.
  return { status: denied?.status.code || 403, headers, body: denied?.body ?? '' };
}
