import type { CheckRequest } from '../../src/envoy/types.js';

/**
 * A CheckRequest shaped like the ones Envoy 1.40 sends for an HTTP request on an ext_authz
 * listener: peer addresses, a request id, the usual proxy headers. Decode cost grows with the
 * number of headers, so a toy request would flatter the server.
 */
export function envoyLikeCheckRequest(input: {
  token?: string;
  path?: string;
  extensions?: Record<string, string>;
  headers?: Record<string, string>;
  requestId: string;
}): CheckRequest {
  const path = input.path ?? '/v2/namespaces';
  const headers: Record<string, string> = {
    ':authority': 'gateway.internal:8080',
    ':method': 'POST',
    ':path': path,
    ':scheme': 'http',
    accept: 'application/json',
    'content-type': 'application/json',
    'content-length': '128',
    'user-agent': 'vmctl/2.14.0',
    'x-forwarded-proto': 'http',
    'x-request-id': input.requestId,
    'x-envoy-expected-rq-timeout-ms': '15000',
    ...input.headers,
  };
  if (input.token) headers.authorization = `Bearer ${input.token}`;
  return {
    attributes: {
      source: peer('10.0.12.7', 50_312),
      destination: peer('10.0.3.21', 8080),
      request: {
        http: {
          id: input.requestId,
          method: 'POST',
          headers,
          path,
          host: 'gateway.internal:8080',
          scheme: 'http',
          protocol: 'HTTP/1.1',
          size: 128,
        },
      },
      context_extensions: input.extensions ?? {},
    },
  };
}

function peer(address: string, port: number) {
  return { address: { socket_address: { address, port_value: port } } };
}
