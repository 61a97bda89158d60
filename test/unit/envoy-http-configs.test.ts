import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRouteSettings, ROUTE_HEADER } from '../../src/envoy/http-check-request.js';
import { ROOT } from '../helpers/tools.js';

/**
 * The HTTP-transport configs (envoy/*-http.yaml) are twins of the gRPC ones: the same routes with
 * the same per-route settings (sent in x-jwtexchange-route instead of context_extensions), the
 * route header only ever set by a route, and the same fail-closed ext_authz. Envoy's validation
 * (test/e2e/envoy-configs.test.ts) cannot see a route whose settings drifted; this does.
 * test/e2e/http-transport.test.ts runs both through a real Envoy.
 */
type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (f: string): Yaml => parse(readFileSync(path.join(ROOT, 'envoy', f), 'utf8'));
const EXT_AUTHZ = 'envoy.filters.http.ext_authz';
const MUTATION = 'envoy.filters.http.header_mutation';

function manager(config: Yaml): Yaml {
  return config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}

const routesOf = (config: Yaml): Yaml[] =>
  manager(config).route_config.virtual_hosts.flatMap((v: Yaml) => v.routes);
const filter = (config: Yaml, name: string): Yaml | undefined =>
  manager(config).http_filters.find((f: Yaml) => f.name === name)?.typed_config;

/** The route header's value a route sets, and how (undefined when it sets none). */
function routeHeader(route: Yaml): { value: string; action: string } | undefined {
  const mutations = route.typed_per_filter_config?.[MUTATION]?.mutations?.request_mutations ?? [];
  const set = mutations.find((m: Yaml) => m.append?.header?.key === ROUTE_HEADER)?.append;
  return set ? { value: set.header.value, action: set.append_action } : undefined;
}

const exact = (patterns: Yaml[] | undefined) =>
  (patterns ?? []).filter((p) => p.exact).map((p) => p.exact as string);
const prefixes = (patterns: Yaml[] | undefined) =>
  (patterns ?? []).filter((p) => p.prefix).map((p) => p.prefix as string);

describe.each([
  ['ingress.yaml', 'ingress-http.yaml'],
  ['egress.yaml', 'egress-http.yaml'],
])('%s and its HTTP twin', (grpcFile, httpFile) => {
  const grpc = load(grpcFile);
  const http = load(httpFile);

  it('has the same listener, route matches and route actions', () => {
    expect(http.static_resources.listeners[0].name).toBe(grpc.static_resources.listeners[0].name);
    const strip = (r: Yaml) => ({ match: r.match, route: r.route });
    expect(routesOf(http).map(strip)).toEqual(routesOf(grpc).map(strip));
    expect(manager(http).route_config.virtual_hosts.map((v: Yaml) => v.domains)).toEqual(
      manager(grpc).route_config.virtual_hosts.map((v: Yaml) => v.domains),
    );
  });

  it('sets, on every route, the settings the gRPC twin sends as context_extensions', () => {
    const grpcRoutes = routesOf(grpc);
    routesOf(http).forEach((route, i) => {
      const extensions =
        grpcRoutes[i]!.typed_per_filter_config[EXT_AUTHZ].check_settings.context_extensions;
      const header = routeHeader(route);
      expect(header, `route ${i}`).toBeDefined();
      expect(header!.action).toBe('OVERWRITE_IF_EXISTS_OR_ADD');
      expect({ ...parseRouteSettings(header!.value) }, `route ${i}`).toEqual(extensions);
      // No route turns the check off or sets context_extensions HTTP mode would ignore.
      expect(route.typed_per_filter_config[EXT_AUTHZ]).toBeUndefined();
    });
  });

  it('removes a client-sent route header before the route sets it, and checks before routing', () => {
    const names = manager(http).http_filters.map((f: Yaml) => f.name);
    expect(names).toEqual([MUTATION, EXT_AUTHZ, 'envoy.filters.http.router']);
    const removed = filter(http, MUTATION)!.mutations.request_mutations.map((m: Yaml) => m.remove);
    expect(removed).toContain(ROUTE_HEADER);
    // Everything the gRPC twin strips up front, the HTTP twin strips too.
    const grpcRemoved = (filter(grpc, MUTATION)?.mutations.request_mutations ?? []).map(
      (m: Yaml) => m.remove,
    );
    expect(removed).toEqual(expect.arrayContaining(grpcRemoved));
  });

  it('asks jwtexchange over HTTP, fails closed, within the gRPC twin’s timeout', () => {
    const authz = filter(http, EXT_AUTHZ)!;
    const grpcAuthz = filter(grpc, EXT_AUTHZ)!;
    expect(authz.grpc_service).toBeUndefined();
    expect(authz.http_service.server_uri).toMatchObject({
      cluster: 'jwtexchange',
      timeout: grpcAuthz.grpc_service.timeout,
    });
    expect(authz.failure_mode_allow).toBe(false);
    expect(authz.status_on_error).toEqual({ code: 'ServiceUnavailable' });
    // Retried only when jwtexchange was not reached: never on an answer (a 5xx denial).
    const retry = authz.http_service.retry_policy;
    expect(retry.retry_on.split(',').sort()).toEqual(['connect-failure', 'reset']);
    expect(retry.retry_back_off.max_interval).toBe(authz.http_service.server_uri.timeout);
    expect(exact(authz.allowed_headers.patterns)).toEqual(
      expect.arrayContaining([ROUTE_HEADER, 'content-type', 'x-request-id']),
    );
    const response = authz.http_service.authorization_response;
    expect(exact(response.allowed_upstream_headers.patterns)).toContain('authorization');
    expect(prefixes(response.allowed_upstream_headers.patterns)).toContain('x-jwtauth-');
    expect(exact(response.allowed_client_headers.patterns)).toEqual(
      expect.arrayContaining(['x-jwtauth-reason', 'content-type']),
    );
  });

  it('keeps HTTP/1.1 connections to jwtexchange open for an hour', () => {
    const cluster = http.static_resources.clusters.find((c: Yaml) => c.name === 'jwtexchange');
    const options =
      cluster.typed_extension_protocol_options[
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
      ];
    expect(options.explicit_http_config).toEqual({ http_protocol_options: {} });
    expect(options.common_http_protocol_options.idle_timeout).toBe('3600s');
    const uri = new URL(filter(http, EXT_AUTHZ)!.http_service.server_uri.uri);
    const endpoint =
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(`${endpoint.address}:${endpoint.port_value}`).toBe(uri.host);
  });
});

describe('ingress-http.yaml', () => {
  it('sends jwtexchange every client-sent x-jwtauth-* header, so it can have Envoy remove them', () => {
    const authz = filter(load('ingress-http.yaml'), EXT_AUTHZ)!;
    expect(prefixes(authz.allowed_headers.patterns)).toContain('x-jwtauth-');
  });
});

describe('egress-http.yaml', () => {
  it('sends the saga id to jwtexchange (delegation reads it)', () => {
    const authz = filter(load('egress-http.yaml'), EXT_AUTHZ)!;
    expect(exact(authz.allowed_headers.patterns)).toContain('x-saga-id');
  });
});
