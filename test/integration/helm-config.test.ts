import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { startApp } from '../../src/server/app.js';
import { findObject, helmTemplate, podContainers, type K8sObject } from '../helpers/helm.js';
import { freePort } from '../helpers/ports.js';
import { testLogger } from '../helpers/run-logs.js';

/**
 * The jwtexchange config the chart renders is accepted by the project's own config validation,
 * agrees with the pod spec and the Envoy config, and actually runs the server.
 */
let dir: string;
beforeAll(() => void (dir = mkdtempSync(path.join(tmpdir(), 'jwtx-helm-config-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const renderedConfig = (objects: K8sObject[]) =>
  parseYaml(
    findObject(objects, 'ConfigMap', 'gw-jwtexchange-config').data['config.yaml'],
  ) as K8sObject;

describe('the rendered jwtexchange config', () => {
  it.each(
    ['default', 'demo-gateway', 'mtls', 'cert-manager'].flatMap((s) =>
      ['grpc', 'http'].map((t) => [s, t]),
    ),
  )(
    'passes parseConfig for ci/%s-values.yaml with checkTransport %s',
    async (scenario, transport) => {
      const objects = await helmTemplate({
        values: [`ci/${scenario}-values.yaml`],
        set: { 'jwtexchange.checkTransport': transport! },
      });
      const config = parseConfig(renderedConfig(objects), '/etc/jwtexchange');
      expect(config.server.grpcAddress).toBe('127.0.0.1:9191');
      expect(config.server.httpAddress).toBe('0.0.0.0:9464');
      expect(config.server.httpCheckAddress).toBe(
        transport === 'http' ? '127.0.0.1:9192' : undefined,
      );
    },
  );

  it('agrees with the HTTP check listener Envoy calls, and its timeout', async () => {
    const objects = await helmTemplate({
      values: ['ci/demo-gateway-values.yaml'],
      set: {
        'jwtexchange.checkTransport': 'http',
        'jwtexchange.httpCheckPort': '7002',
        'envoy.extAuthzTimeout': '2500ms',
        'envoy.egress.extAuthzTimeout': '1.5s',
      },
    });
    const config = parseConfig(renderedConfig(objects), '/etc/jwtexchange');
    const envoy = parseYaml(
      findObject(objects, 'ConfigMap', 'gw-jwtexchange-envoy').data['envoy.yaml'],
    );
    const cluster = envoy.static_resources.clusters.find(
      (c: K8sObject) => c.name === 'jwtexchange',
    );
    const address =
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(`${address.address}:${address.port_value}`).toBe(config.server.httpCheckAddress);
    // The longer of the two listeners' check timeouts: no outbound check is cut short.
    expect(config.server.httpCheckTimeoutMs).toBe(2500);
    const egressOnly = await helmTemplate({
      set: { 'jwtexchange.checkTransport': 'http', 'envoy.ingress.enabled': 'false' },
    });
    expect(parseConfig(renderedConfig(egressOnly), '/etc').server.httpCheckTimeoutMs).toBe(3000);
  });

  it('keeps the inbound settings from values and the server settings from the chart', async () => {
    const objects = await helmTemplate({
      values: ['ci/demo-gateway-values.yaml'],
      set: { 'jwtexchange.config.server.grpcAddress': '0.0.0.0:1' },
    });
    const config = parseConfig(renderedConfig(objects), '/etc/jwtexchange');
    // A config.server key cannot move the listeners away from what Envoy and the probes use.
    expect(config.server.grpcAddress).toBe('127.0.0.1:9191');
    expect(config.log.level).toBe('debug');
    expect(config.inbound.issuers[0]).toMatchObject({
      issuer: 'https://token-exchange.platform.svc.cluster.local',
      audiences: ['gateway'],
      jwks: { maxStaleMs: 86_400_000 },
    });
  });

  it('agrees with the container ports, the probes and the Envoy cluster', async () => {
    const objects = await helmTemplate({
      values: ['ci/demo-gateway-values.yaml'],
      set: { 'jwtexchange.grpcPort': '7000', 'jwtexchange.httpPort': '7001' },
    });
    const config = parseConfig(renderedConfig(objects), '/etc/jwtexchange');
    const pod = findObject(objects, 'Deployment').spec.template.spec;
    const jwtx = podContainers(pod).find((c) => c.name === 'jwtexchange')!;
    expect(config.server.httpAddress).toBe('0.0.0.0:7001');
    expect(jwtx.ports).toEqual([{ name: 'jwtx-metrics', containerPort: 7001, protocol: 'TCP' }]);
    const envoy = parseYaml(
      findObject(objects, 'ConfigMap', 'gw-jwtexchange-envoy').data['envoy.yaml'],
    );
    const cluster = envoy.static_resources.clusters.find(
      (c: K8sObject) => c.name === 'jwtexchange',
    );
    const address =
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(`${address.address}:${address.port_value}`).toBe(config.server.grpcAddress);
  });

  it.each(['mtls', 'cert-manager'])(
    'reads the mTLS files for token-exchange from the Secret the pod mounts (%s)',
    async (scenario) => {
      const objects = await helmTemplate({ values: [`ci/${scenario}-values.yaml`] });
      const config = parseConfig(renderedConfig(objects), '/etc/jwtexchange');
      const te = config.outbound!.tokenExchange;
      for (const file of [te.certFile, te.keyFile, te.caFile]) {
        expect(path.dirname(file!)).toBe('/etc/jwtexchange/tls');
      }
      const names = ['tls.crt', 'tls.key', 'ca.crt'];
      expect([te.certFile, te.keyFile, te.caFile].map((f) => path.basename(f!))).toEqual(names);
      const pods = objects.filter((o) => o.kind === 'Deployment');
      for (const d of pods) {
        const jwtx = podContainers(d.spec.template.spec).find((c) => c.name === 'jwtexchange')!;
        expect(jwtx.volumeMounts).toContainEqual({
          name: 'jwtexchange-tls',
          mountPath: '/etc/jwtexchange/tls',
          readOnly: true,
        });
      }
    },
  );

  it.each(['grpc', 'http'])(
    'is a config file `jwtexchange serve` starts and becomes ready with (checkTransport %s)',
    async (transport) => {
      const issuer = await ensureDevIssuer(path.join(dir, 'issuer'));
      const [grpcPort, httpPort, httpCheckPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const values = path.join(dir, 'values.yaml');
      writeFileSync(
        values,
        stringify({
          jwtexchange: {
            checkTransport: transport,
            grpcPort,
            httpPort,
            httpCheckPort,
            drainDelayMs: 0,
            // The chart refuses a file no volume of the container holds.
            extraVolumes: [{ name: 'issuer', emptyDir: {} }],
            extraVolumeMounts: [{ name: 'issuer', mountPath: path.dirname(issuer.jwksFile) }],
            config: {
              inbound: {
                issuers: [
                  { issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] },
                ],
              },
            },
          },
        }),
      );
      const objects = await helmTemplate({ values: [values] });
      const text = findObject(objects, 'ConfigMap', 'gw-jwtexchange-config').data[
        'config.yaml'
      ] as string;
      const file = path.join(dir, 'config.yaml');
      // Tests listen on loopback only; in the pod the HTTP listener is on 0.0.0.0 for the kubelet.
      writeFileSync(file, text.replace('0.0.0.0:', '127.0.0.1:'));
      const app = await startApp(loadConfigFile(file), { logger: testLogger('helm-config') });
      try {
        await app.whenReady(60_000);
        expect(app.grpcPort).toBe(grpcPort);
        const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
        expect(ready.status).toBe(200);
        if (transport === 'http') {
          // A check as Envoy's http_service sends it: the route's settings in their header.
          const check = (route: string) =>
            fetch(`http://127.0.0.1:${httpCheckPort}/v1/things`, {
              headers: { 'x-jwtexchange-route': route },
            });
          expect((await check('jwtexchange.exempt=true')).status).toBe(200);
          const denied = await check('jwtexchange.direction=inbound');
          expect(denied.status).toBe(401);
          expect(denied.headers.get('x-jwtauth-reason')).toBe('missing_token');
        } else {
          expect(app.httpCheckPort).toBeUndefined();
        }
      } finally {
        await app.shutdown();
      }
    },
  );
});
