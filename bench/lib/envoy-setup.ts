import { readFileSync } from 'node:fs';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../../test/helpers/envoy.js';
import { freePort } from '../../test/helpers/ports.js';

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** ext_authz over gRPC (envoy/ingress.yaml) or HTTP (envoy/ingress-http.yaml). */
export type CheckTransport = 'grpc' | 'http';
const INGRESS: Record<CheckTransport, string> = {
  grpc: 'envoy/ingress.yaml',
  http: 'envoy/ingress-http.yaml',
};

/** How requests are authenticated in front of the same trivial upstream. */
export type EnvoyVariant = 'none' | 'jwt-authn' | 'ext-authz';

export const BENCH_SUBJECT = 'bench-user';
const SUBJECT_HEADER = 'x-jwtauth-subject';

/**
 * The trivial upstream, a second listener of the same Envoy: 200 only when the request carries
 * the caller's verified subject (set by jwt_authn's claim_to_headers, by jwtexchange, or by the
 * route in the no-auth variant), 418 otherwise — so a 200 proves the identity reached the app.
 */
function upstreamListener(port: number): Yaml {
  return {
    name: 'upstream',
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'upstream',
              // The path settings every listener of ours keeps (docs/security.md).
              normalize_path: true,
              merge_slashes: true,
              path_with_escaped_slashes_action: 'REJECT_REQUEST',
              route_config: {
                virtual_hosts: [
                  {
                    name: 'upstream',
                    domains: ['*'],
                    routes: [
                      {
                        match: {
                          prefix: '/',
                          headers: [
                            { name: SUBJECT_HEADER, string_match: { exact: BENCH_SUBJECT } },
                          ],
                        },
                        direct_response: { status: 200, body: { inline_string: 'ok' } },
                      },
                      { match: { prefix: '/' }, direct_response: { status: 418 } },
                    ],
                  },
                ],
              },
              http_filters: [
                {
                  name: 'envoy.filters.http.router',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** jwt_authn with the issuer's keys inline, the sub claim forwarded as the subject header. */
function jwtAuthnFilter(issuer: { issuer: string; jwksFile: string }): Yaml {
  return {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: {
        bench: {
          issuer: issuer.issuer,
          audiences: ['gateway'],
          local_jwks: { inline_string: readFileSync(issuer.jwksFile, 'utf8') },
          claim_to_headers: [{ header_name: SUBJECT_HEADER, claim_name: 'sub' }],
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { provider_name: 'bench' } }],
    },
  };
}

/**
 * The shipped envoy/ingress.yaml (its ext_authz filter, cluster and timeouts as operators get
 * them) with the app cluster pointed at the trivial upstream. For `jwt-authn` the ext_authz filter
 * is replaced by jwt_authn; for `none` it is removed and the route sets the subject header.
 */
export async function startBenchEnvoy(
  variant: EnvoyVariant,
  issuer: { issuer: string; jwksFile: string },
  jwtexchangePort: number | undefined,
  transport: CheckTransport = 'grpc',
): Promise<{ envoy: RunningEnvoy; port: number }> {
  // The app cluster must name the upstream listener's port before Envoy starts: a reserved port.
  // The ingress listener binds port 0 and is looked up once Envoy runs.
  const upstreamPort = await freePort();
  const config = renderEnvoyConfig(INGRESS[transport], {
    clusters: { app: upstreamPort, ...(jwtexchangePort ? { jwtexchange: jwtexchangePort } : {}) },
    keepTimeouts: true,
    edit(c) {
      c.static_resources.listeners.push(upstreamListener(upstreamPort));
      if (variant === 'ext-authz') return;
      const hcm = c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
      const filters = hcm.http_filters as Yaml[];
      const at = filters.findIndex((f) => f.name === 'envoy.filters.http.ext_authz');
      if (variant === 'jwt-authn') filters.splice(at, 1, jwtAuthnFilter(issuer));
      else filters.splice(at, 1);
      for (const route of hcm.route_config.virtual_hosts[0].routes as Yaml[]) {
        delete route.typed_per_filter_config;
        if (variant === 'none')
          route.request_headers_to_add = [
            {
              header: { key: SUBJECT_HEADER, value: BENCH_SUBJECT },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          ];
      }
      c.static_resources.clusters = c.static_resources.clusters.filter(
        (cl: Yaml) => cl.name !== 'jwtexchange',
      );
    },
  });
  // Envoy as in a 2-core pod: one worker thread per core.
  const envoy = await startEnvoy(config, { concurrency: 2 });
  return { envoy, port: envoy.port('ingress') };
}
