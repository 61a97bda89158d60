import type { CheckRequest } from '../envoy/types.js';
import { JwtxError } from '../errors.js';

/**
 * Per-route settings come from Envoy's ext_authz `check_settings.context_extensions`
 * (docs/envoy.md lists them). Keys are namespaced so they never clash with other servers'.
 */
export const CONTEXT_EXTENSIONS = {
  direction: 'jwtexchange.direction',
  exempt: 'jwtexchange.exempt',
  audience: 'jwtexchange.audience',
  scope: 'jwtexchange.scope',
  whenHeader: 'jwtexchange.when-header',
  delegation: 'jwtexchange.delegation',
} as const;

export type Direction = 'inbound' | 'outbound';

/** Everything the phases need from a CheckRequest, as plain values. */
export interface RequestContext {
  readonly direction: Direction;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly host: string;
  /** Lower-case header names, as Envoy sends them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, string>>;
  /** content-type application/grpc*: denials must reach the client as gRPC statuses. */
  readonly isGrpc: boolean;
  readonly requestId: string | undefined;
  /** The mTLS peer principal Envoy saw on the downstream connection, if any. */
  readonly peerPrincipal: string | undefined;
  /** Epoch ms by which Envoy must have the answer (src/check/deadline.ts); none without a deadline. */
  readonly answerBy?: number | undefined;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/** Pure conversion from Envoy's CheckRequest; throws JwtxError(bad_request) when unusable. */
export function toRequestContext(req: CheckRequest, answerBy?: number): RequestContext {
  const attrs = req.attributes;
  const http = attrs?.request?.http;
  if (!http) throw new JwtxError('bad_request', 'CheckRequest has no HTTP request attributes');
  const headers = http.headers ?? EMPTY;
  const extensions = attrs?.context_extensions ?? EMPTY;
  const rawDirection = extensions[CONTEXT_EXTENSIONS.direction] ?? 'inbound';
  if (rawDirection !== 'inbound' && rawDirection !== 'outbound') {
    throw new JwtxError(
      'bad_request',
      `${CONTEXT_EXTENSIONS.direction} must be inbound or outbound`,
    );
  }
  const rawPath = http.path ?? headers[':path'] ?? '/';
  const q = rawPath.indexOf('?');
  return {
    direction: rawDirection,
    method: http.method ?? headers[':method'] ?? 'GET',
    path: q === -1 ? rawPath : rawPath.slice(0, q),
    host: http.host ?? headers[':authority'] ?? '',
    headers,
    extensions,
    isGrpc: (headers['content-type'] ?? '').startsWith('application/grpc'),
    requestId: headers['x-request-id'],
    peerPrincipal: attrs?.source?.principal || undefined,
    answerBy,
  };
}
