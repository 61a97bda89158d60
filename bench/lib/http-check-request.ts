/**
 * One check as Envoy's HTTP mode (`http_service`, envoy/ingress-http.yaml) sends it to
 * jwtexchange's HTTP listener: the client's method and path as the request line, an empty body,
 * and only the headers Envoy forwards. Captured from Envoy 1.40 with the shipped config: Host (the
 * check listener's own address, which the load generator sets), content-length 0, x-request-id,
 * the client's authorization, the route header, the client's content-type, x-envoy-internal and
 * x-envoy-expected-rq-timeout-ms (the http_service timeout), in that order.
 */
export interface HttpCheckRequest {
  readonly method: string;
  /** The client's path, query included. */
  readonly path: string;
  /** Every header but Host, in the order Envoy sends them. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The requests of one HTTP case, and the private folder where files holding them may go. */
export interface HttpCheckSet {
  readonly requests: readonly HttpCheckRequest[];
  /** The fixtures' private temp dir: target files carry tokens, so they never go elsewhere. */
  readonly dir: string;
}

export function envoyLikeHttpCheck(input: {
  token?: string;
  path?: string;
  requestId: string;
}): HttpCheckRequest {
  const headers: Record<string, string> = {
    'content-length': '0',
    'x-request-id': input.requestId,
  };
  if (input.token) headers.authorization = `Bearer ${input.token}`;
  // The shipped config sets this on every route (direction inbound is also the default).
  headers['x-jwtexchange-route'] = 'jwtexchange.direction=inbound';
  headers['content-type'] = 'application/json';
  headers['x-envoy-internal'] = 'true';
  // The http_service timeout; the server takes it as the check's deadline.
  headers['x-envoy-expected-rq-timeout-ms'] = '1000';
  return { method: 'POST', path: input.path ?? '/v2/namespaces', headers };
}
