import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { CHART, findObject, helmTemplate, kinds, type K8sObject } from '../helpers/helm.js';
import { ROOT } from '../helpers/tools.js';

/**
 * The documented way to add the sidecars to an existing Deployment works: a gateway chart that
 * depends on this chart, with the Deployment template copied verbatim from docs/operations.md.
 */

/** The fenced block of docs/operations.md whose first line is `firstLine`. */
function docBlock(firstLine: string): string {
  const doc = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const start = doc.indexOf('```yaml\n' + firstLine + '\n');
  if (start === -1) throw new Error(`docs/operations.md has no block starting "${firstLine}"`);
  const body = doc.slice(start + '```yaml\n'.length);
  return body.slice(0, body.indexOf('\n```\n') + 1);
}

let dir: string;
let objects: K8sObject[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-parent-chart-'));
  const parent = path.join(dir, 'gwadmin');
  mkdirSync(path.join(parent, 'templates'), { recursive: true });
  cpSync(CHART, path.join(parent, 'charts', 'jwtexchange'), { recursive: true });
  const chartYaml = parseYaml(docBlock('# Chart.yaml of the gateway chart')) as K8sObject;
  writeFileSync(
    path.join(parent, 'Chart.yaml'),
    stringify({ apiVersion: 'v2', name: 'gwadmin', version: '1.0.0', ...chartYaml }),
  );
  writeFileSync(
    path.join(parent, 'templates', 'deployment.yaml'),
    docBlock('# templates/deployment.yaml of the gateway chart'),
  );
  writeFileSync(
    path.join(parent, 'values.yaml'),
    stringify({
      jwtexchange: {
        podSelector: { 'app.kubernetes.io/name': 'gwadmin' },
        tls: { enabled: true, secretName: 'gwadmin-mtls' },
        jwtexchange: {
          image: { repository: 'registry.example/jwtexchange' },
          config: {
            outbound: {
              tokenExchange: {
                tokenUrl: 'https://token-exchange.platform.svc:8443/token',
                certFile: '/etc/jwtexchange/tls/tls.crt',
                keyFile: '/etc/jwtexchange/tls/tls.key',
              },
              audiences: [{ audience: 'vmcontroller' }],
            },
          },
        },
        envoy: {
          egress: {
            upstreams: [
              {
                name: 'vmcontroller',
                address: 'vmcontroller.platform.svc',
                port: 8080,
                routes: [{ prefix: '/', audience: 'vmcontroller', whenHeader: 'x-saga-id' }],
              },
            ],
          },
        },
      },
    }),
  );
  objects = await helmTemplate({ chart: parent, release: 'prod' });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sidecars added to an existing Deployment through the subchart', () => {
  it('renders the gateway Deployment plus the subchart objects for its pods', () => {
    expect(kinds(objects)).toEqual([
      'ConfigMap/prod-jwtexchange-config',
      'ConfigMap/prod-jwtexchange-envoy',
      'Deployment/prod-gwadmin',
      'NetworkPolicy/prod-jwtexchange',
      'Service/prod-jwtexchange-metrics',
    ]);
  });

  it('puts both sidecars into the pod, mounting the ConfigMaps the subchart renders', () => {
    const pod = findObject(objects, 'Deployment').spec.template.spec;
    expect(pod.initContainers.map((c: K8sObject) => [c.name, c.restartPolicy])).toEqual([
      ['envoy', 'Always'],
      ['jwtexchange', 'Always'],
    ]);
    expect(pod.initContainers[1].image).toBe('registry.example/jwtexchange:0.1.0');
    expect(pod.containers.map((c: K8sObject) => c.name)).toEqual(['gwadmin']);
    const rendered = new Set(
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name),
    );
    const mounted = pod.volumes
      .filter((v: K8sObject) => v.configMap)
      .map((v: K8sObject) => v.configMap.name);
    expect(mounted.length).toBe(2);
    for (const name of mounted) expect(rendered).toContain(name);
    const annotations = findObject(objects, 'Deployment').spec.template.metadata.annotations;
    expect(Object.keys(annotations)).toEqual([
      'checksum/jwtexchange-config',
      'checksum/envoy-config',
    ]);
  });

  it('selects the gateway pods for metrics and the NetworkPolicy', () => {
    const labels = findObject(objects, 'Deployment').spec.template.metadata.labels;
    expect(labels).toMatchObject(findObject(objects, 'NetworkPolicy').spec.podSelector.matchLabels);
    expect(labels).toMatchObject(findObject(objects, 'Service').spec.selector);
  });

  it("renders the Envoy routes from the parent chart's values", () => {
    const envoy = parseYaml(
      findObject(objects, 'ConfigMap', 'prod-jwtexchange-envoy').data['envoy.yaml'],
    );
    const egress = envoy.static_resources.listeners.find((l: K8sObject) => l.name === 'egress');
    const vhost = egress.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0];
    expect(vhost.name).toBe('vmcontroller');
    expect(
      vhost.routes[0].typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings
        .context_extensions,
    ).toEqual({
      'jwtexchange.direction': 'outbound',
      'jwtexchange.audience': 'vmcontroller',
      'jwtexchange.when-header': 'x-saga-id',
    });
  });
});
