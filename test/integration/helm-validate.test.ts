import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { helmTemplate, helmTemplateError } from '../helpers/helm.js';

/**
 * The chart refuses, at `helm template`/`install` time and naming the value to fix, what would
 * render fine and then fail in the cluster: a crash loop, a pod that never gets ready, or a 403 on
 * every saga call. Each broken case is rendered with the real helm.
 */
let dir: string;
beforeAll(() => void (dir = mkdtempSync(path.join(tmpdir(), 'jwtx-helm-validate-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A values file from an object (lists in --set would replace or merge in surprising ways). */
function valuesFile(values: object): string {
  const file = path.join(dir, `values-${n++}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

const TLS_FILES = {
  tokenUrl: 'https://token-exchange.platform.svc:8443/token',
  certFile: '/etc/jwtexchange/tls/tls.crt',
  keyFile: '/etc/jwtexchange/tls/tls.key',
  caFile: '/etc/jwtexchange/tls/ca.crt',
};
const ISSUER = { issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks' };
const upstream = (routes: object[]) => ({
  envoy: { egress: { upstreams: [{ name: 'vmcontroller', address: 'vm.svc', port: 80, routes }] } },
});

const refuse = async (values: object) => helmTemplateError({ values: [valuesFile(values)] });

describe('the templates refuse combinations that cannot work', () => {
  it('outbound mTLS files under tls.mountPath while tls.enabled=false', async () => {
    const err = await refuse({
      jwtexchange: { config: { outbound: { tokenExchange: TLS_FILES } } },
    });
    expect(err).toContain(
      'jwtexchange.config.outbound.tokenExchange.certFile is /etc/jwtexchange/tls/tls.crt, under tls.mountPath, but tls.enabled=false',
    );
    expect(err).toContain('Set tls.enabled=true with tls.secretName');
  });

  it('a file no volume of the container holds', async () => {
    const err = await refuse({
      jwtexchange: {
        config: {
          inbound: { issuers: [{ ...ISSUER, audiences: ['gw'], jwksCaFile: '/srv/ca.pem' }] },
        },
      },
    });
    expect(err).toContain(
      'jwtexchange.config.inbound.issuers[0].jwksCaFile is /srv/ca.pem, which no volume of the jwtexchange container holds',
    );
  });

  it('a saga-tagged route whose audience the outbound section does not allow', async () => {
    const err = await refuse({
      tls: { enabled: true, secretName: 'mtls' },
      jwtexchange: {
        config: {
          outbound: { tokenExchange: TLS_FILES, audiences: [{ audience: 'vmcontroller' }] },
        },
      },
      ...upstream([{ prefix: '/billing', audience: 'billing', whenHeader: 'x-saga-id' }]),
    });
    expect(err).toContain(
      'envoy.egress.upstreams[0] (vmcontroller) routes[0] asks for audience "billing", which jwtexchange.config.outbound.audiences does not list',
    );
  });

  it('a route scope the audience does not allow', async () => {
    const err = await refuse({
      tls: { enabled: true, secretName: 'mtls' },
      jwtexchange: {
        config: {
          outbound: {
            tokenExchange: TLS_FILES,
            audiences: [{ audience: 'vmcontroller', scopes: ['namespace:read'] }],
          },
        },
      },
      ...upstream([{ prefix: '/', audience: 'vmcontroller', scope: 'namespace:write' }]),
    });
    expect(err).toContain('asks for scope "namespace:write"');
  });

  it('a saga-tagged route without any outbound section', async () => {
    const err = await refuse(upstream([{ prefix: '/', audience: 'vmcontroller' }]));
    expect(err).toContain(
      'routes[0] asks for a service token for audience "vmcontroller", but jwtexchange.config has no outbound section',
    );
  });

  it.each([
    ['neither jwksUri nor jwksFile', { issuer: 'https://issuer.example', audiences: ['gw'] }],
    [
      'both jwksUri and jwksFile',
      { ...ISSUER, jwksFile: '/etc/jwtexchange/tls/jwks.json', audiences: ['gw'] },
    ],
  ])('an issuer with %s', async (_what, issuer) => {
    const err = await refuse({ jwtexchange: { config: { inbound: { issuers: [issuer] } } } });
    expect(err).toContain(
      'jwtexchange.config.inbound.issuers[0] (https://issuer.example): set exactly one of jwksUri or jwksFile',
    );
  });

  it('an issuer without audiences', async () => {
    const err = await refuse({ jwtexchange: { config: { inbound: { issuers: [ISSUER] } } } });
    expect(err).toContain(
      'jwtexchange.config.inbound.issuers[0] (https://issuer.example): audiences is empty',
    );
  });

  it('a SpiceDB key variable the container does not get', async () => {
    const err = await refuse({
      jwtexchange: {
        config: { spicedb: { endpoint: 'spicedb:50051', presharedKeyEnv: 'SPICEDB_KEY' } },
      },
    });
    expect(err).toContain(
      'jwtexchange.config.spicedb.presharedKeyEnv is SPICEDB_KEY, but jwtexchange.env sets no such variable',
    );
  });

  it('checkTransport http: a check port jwtexchange already uses, a timeout it cannot take', async () => {
    const http = { checkTransport: 'http' };
    expect(await refuse({ jwtexchange: { ...http, httpCheckPort: 9464 } })).toContain(
      'jwtexchange.httpCheckPort and jwtexchange.httpPort are both 9464',
    );
    expect(await refuse({ jwtexchange: { ...http, grpcPort: 9192 } })).toContain(
      'jwtexchange.httpCheckPort and jwtexchange.grpcPort are both 9192',
    );
    // jwtexchange's server.httpCheckTimeoutMs is the longer of Envoy's two check timeouts.
    expect(
      await refuse({ jwtexchange: http, envoy: { egress: { extAuthzTimeout: '90s' } } }),
    ).toContain('the longer, 90000 ms here');
    expect(await refuse({ jwtexchange: { checkTransport: 'h2' } })).toContain(
      "at '/jwtexchange/checkTransport'",
    );
    // The same ports are fine with the gRPC transport, which opens no HTTP check listener.
    await expect(
      helmTemplate({ values: [valuesFile({ jwtexchange: { httpCheckPort: 9464 } })] }),
    ).resolves.toBeDefined();
  });

  it('checks the shapes of jwtexchange.config in values.schema.json', async () => {
    expect(await refuse({ jwtexchange: { config: { inbund: {} } } })).toContain(
      "at '/jwtexchange/config': additional properties 'inbund' not allowed",
    );
    expect(await refuse({ jwtexchange: { config: { outbound: { audiences: [] } } } })).toContain(
      "at '/jwtexchange/config/outbound': missing property 'tokenExchange'",
    );
  });

  it('renders the same values once the named value is fixed (the checks can pass)', async () => {
    const objects = await helmTemplate({
      values: [
        valuesFile({
          tls: { enabled: true, secretName: 'mtls' },
          jwtexchange: {
            env: [{ name: 'SPICEDB_KEY', value: 'k' }],
            config: {
              inbound: { issuers: [{ ...ISSUER, audiences: ['gw'] }] },
              outbound: {
                tokenExchange: TLS_FILES,
                audiences: [{ audience: 'vmcontroller', scopes: ['namespace:write'] }],
              },
              spicedb: { endpoint: 'spicedb:50051', presharedKeyEnv: 'SPICEDB_KEY' },
            },
          },
          ...upstream([{ prefix: '/', audience: 'vmcontroller', scope: 'namespace:write' }]),
        }),
      ],
    });
    expect(objects.map((o) => o.kind)).toContain('ConfigMap');
  });
});
