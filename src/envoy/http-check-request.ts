import { JwtxError } from '../errors.js';
import { newStringMap } from './string-map.js';
import type { CheckRequest } from './types.js';

/**
 * Envoy's ext_authz in HTTP mode (`http_service`) sends no CheckRequest: it sends the client's
 * request line and the allowed headers as a plain HTTP/1.1 request (body empty). This file turns
 * that request back into the CheckRequest fields the phases read, so both transports run the
 * same pipeline.
 *
 * Per-route settings cannot travel as context_extensions in this mode (Envoy applies them only to
 * grpc_service), so each route's header_mutation sets them in one request header, ROUTE_HEADER:
 * the same keys and values, form-encoded (`jwtexchange.direction=outbound&jwtexchange.audience=vmcontroller`).
 * The listener's header_mutation removes any client-sent copy first (envoy/ingress-http.yaml).
 */
export const ROUTE_HEADER = 'x-jwtexchange-route';

/** What the HTTP listener hands over: Node's request line and raw header list. */
export interface HttpAuthorizationRequest {
  readonly method?: string | undefined;
  /** Envoy sends the client's :path (query included) as the request target. */
  readonly url?: string | undefined;
  /** Node's rawHeaders: name, value, name, value, … in arrival order, names as sent. */
  readonly rawHeaders: readonly string[];
}

/**
 * Header names lower-cased; a repeated header joined with ',' as Envoy joins them in a
 * CheckRequest (Node's own `req.headers` would keep only the first `authorization`). Host
 * becomes `:authority`, as HTTP/2 and Envoy's CheckRequest name it. Linear in the header bytes.
 */
function headerMap(raw: readonly string[]): { headers: Record<string, string>; route?: string } {
  const headers = newStringMap();
  let route: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    let name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === ROUTE_HEADER) {
      if (route !== undefined) throw new JwtxError('bad_request', `${ROUTE_HEADER} is repeated`);
      route = value;
      continue;
    }
    if (name === 'host') name = ':authority';
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${seen},${value}`;
  }
  return { headers, route };
}

/**
 * Route header values come from Envoy's route table, so a pod sees a handful of distinct ones:
 * each is parsed once and its settings reused (frozen). Bounded all the same, since the value
 * is a request header: past the bound, values are parsed every time rather than stored.
 */
const parsedRoutes = new Map<string, Readonly<Record<string, string>>>();
const MAX_PARSED_ROUTES = 256;
const NO_SETTINGS: Readonly<Record<string, string>> = Object.freeze(newStringMap());

/** The route header's settings; a repeated key is refused rather than guessed between. */
export function parseRouteSettings(value: string | undefined): Readonly<Record<string, string>> {
  if (value === undefined || value === '') return NO_SETTINGS;
  const known = parsedRoutes.get(value);
  if (known) return known;
  const out = newStringMap();
  for (const [key, v] of new URLSearchParams(value)) {
    if (Object.hasOwn(out, key))
      throw new JwtxError('bad_request', `${ROUTE_HEADER} repeats a key`);
    out[key] = v;
  }
  Object.freeze(out);
  if (parsedRoutes.size < MAX_PARSED_ROUTES) parsedRoutes.set(value, out);
  return out;
}

/** Pure conversion; throws JwtxError(bad_request) for a request the check cannot read. */
export function fromHttpAuthorizationRequest(req: HttpAuthorizationRequest): CheckRequest {
  const { headers, route } = headerMap(req.rawHeaders);
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  headers[':method'] = method;
  headers[':path'] = path;
  return {
    attributes: {
      request: { http: { method, path, host: headers[':authority'] ?? '', headers } },
      context_extensions: parseRouteSettings(route),
    },
  };
}
