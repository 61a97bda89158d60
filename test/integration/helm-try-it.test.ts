import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { loadConfigFile } from '../../src/config/load.js';
import { startApp } from '../../src/server/app.js';
import { runCli } from '../helpers/cli.js';
import { validateEnvoyConfig } from '../helpers/envoy.js';
import {
  CHART,
  findObject,
  helm,
  podContainers,
  writeEnvoyConfigMap,
  type K8sObject,
} from '../helpers/helm.js';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/tools.js';
import { testLogger } from '../helpers/run-logs.js';

/**
 * The one "try it" of the chart, as both documents print it: the same commands in
 * docs/operations.md and helm/jwtexchange/README.md, the values file shown in full, and — with no
 * cluster here — the release those commands install rendered with the real helm: it lints, its
 * Envoy config validates, its jwtexchange config passes `config check` with the files the
 * documented commands create, and it serves a token from the documented dev-token command.
 */
const doc = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** The fenced block of a document that contains `marker`. */
function block(text: string, marker: string): string {
  const at = text.indexOf(marker);
  if (at === -1) throw new Error(`no block with ${marker}`);
  const start = text.lastIndexOf('```', at);
  const end = text.indexOf('```', at);
  return text.slice(text.indexOf('\n', start) + 1, end);
}

const OPERATIONS = doc('docs/operations.md');
const README = doc('helm/jwtexchange/README.md');
const COMMANDS = block(OPERATIONS, 'helm install try');
const line = (start: string) => {
  const found = COMMANDS.split('\n').find((l) => l.startsWith(start));
  if (!found) throw new Error(`no command starting ${start}`);
  return found.replace(/\s+#.*$/, '').trim();
};

let dir: string;
let objects: K8sObject[];
let rendered: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-try-it-'));
  // `helm install RELEASE CHART -n NS -f VALUES --wait`, rendered instead of installed.
  const [, , release, chart, , ns, , values] = line('helm install').split(/\s+/);
  const res = await helm([
    'template',
    release!,
    path.join(ROOT, chart!),
    '-n',
    ns!,
    '-f',
    path.join(ROOT, values!),
  ]);
  expect(res.code, res.stderr).toBe(0);
  rendered = res.stdout;
  objects = parseAllDocuments(rendered)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the chart\u2019s try-it', () => {
  it('is one command block, the same in docs/operations.md and the chart README', () => {
    expect(block(README, 'helm install try')).toBe(COMMANDS);
    expect(COMMANDS).toContain(
      'helm install try helm/jwtexchange -n jwtx-try -f helm/jwtexchange/examples/try-it-values.yaml',
    );
  });

  it('shows the whole values file in the docs', () => {
    const shown = block(OPERATIONS, '# Try the chart in a bare cluster');
    expect(shown).toBe(doc('helm/jwtexchange/examples/try-it-values.yaml'));
  });

  it('passes helm lint --strict', async () => {
    const res = await helm([
      'lint',
      CHART,
      '--strict',
      '--values',
      path.join(CHART, 'examples/try-it-values.yaml'),
    ]);
    expect(res.stdout + res.stderr).toContain('0 chart(s) failed');
  });

  it('uses the image the documented docker build makes, and the ConfigMap the documented kubectl makes', () => {
    const tag = line('docker build').split(/\s+/)[3];
    const pod = findObject(objects, 'Deployment').spec.template.spec;
    expect(podContainers(pod).find((c) => c.name === 'jwtexchange')!.image).toBe(tag);
    const create = line('kubectl -n jwtx-try create configmap').split(/\s+/);
    const name = create[5];
    const volume = pod.volumes.find((v: K8sObject) => v.configMap?.name === name);
    expect(volume, `a volume from ConfigMap ${name}`).toBeDefined();
    const key = create.find((a) => a.startsWith('--from-file='))!.split('=')[1];
    const mount = podContainers(pod)
      .find((c) => c.name === 'jwtexchange')!
      .volumeMounts.find((m: K8sObject) => m.name === volume.name);
    const config = parseYaml(
      findObject(objects, 'ConfigMap', 'try-jwtexchange-config').data['config.yaml'],
    );
    expect(config.inbound.issuers[0].jwksFile).toBe(`${mount.mountPath}/${key}`);
    // The port-forward target exists and forwards to Envoy's ingress listener.
    const svc = findObject(
      objects,
      'Service',
      line('kubectl -n jwtx-try port-forward').split(/\s+/)[4]!.replace('svc/', ''),
    );
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 'envoy-ingress' });
  });

  it('renders an Envoy config Envoy accepts', async () => {
    const file = writeEnvoyConfigMap(objects, path.join(dir, 'envoy'));
    await expect(validateEnvoyConfig(file)).resolves.toContain('OK');
  });

  it('renders a config `config check` accepts with the files the documented commands create', async () => {
    // npx jwtexchange dev-token --dir .dev, then the copy into the pod layout (operations.md).
    const dev = path.join(dir, '.dev');
    const token = await runCli(['dev-token', '--dir', dev]);
    expect(token.code, token.stderr).toBe(0);
    const root = path.join(dir, 'pod');
    mkdirSync(path.join(root, 'etc/jwtexchange/issuer'), { recursive: true });
    copyFileSync(
      path.join(dev, 'dev-issuer-jwks.json'),
      path.join(root, 'etc/jwtexchange/issuer/jwks.json'),
    );
    expect(block(OPERATIONS, 'config check --root')).toContain(
      'cp .dev/dev-issuer-jwks.json .dev/pod/etc/jwtexchange/issuer/jwks.json',
    );

    const checked = await runCli(['config', 'check', '--root', root, '-'], {}, rendered);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(
      /\(stdin\) \(ConfigMap try-jwtexchange-config, config\.yaml\): ok/,
    );
    expect(checked.stdout).toMatch(
      /inbound\.issuers\[0\]\.jwksFile\s+\/etc\/jwtexchange\/issuer\/jwks\.json\s+1 key\(s\)/,
    );
    const without = await runCli(['config', 'check', '-'], {}, rendered);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain(
      'inbound.issuers[0].jwksFile: cannot read /etc/jwtexchange/issuer/jwks.json: no such file',
    );

    // And serves it: a token from the documented dev-token command is allowed.
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const config = findObject(objects, 'ConfigMap', 'try-jwtexchange-config').data[
      'config.yaml'
    ] as string;
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      config
        .replace(
          '/etc/jwtexchange/issuer/jwks.json',
          path.join(root, 'etc/jwtexchange/issuer/jwks.json'),
        )
        .replace('127.0.0.1:9191', `127.0.0.1:${grpcPort}`)
        .replace('0.0.0.0:9464', `127.0.0.1:${httpPort}`),
    );
    const app = await startApp(loadConfigFile(file), { logger: testLogger('helm-try-it') });
    const client = new AuthorizationClient(`127.0.0.1:${grpcPort}`);
    try {
      await app.whenReady(10_000);
      const res = await client.check(
        syntheticCheckRequest({ headers: { authorization: `Bearer ${token.stdout.trim()}` } }),
      );
      expect(res.status.code).toBe(0);
      expect(res.ok_response?.headers.map((h) => h.header.key)).toContain('x-jwtauth-subject');
    } finally {
      client.close();
      await app.shutdown();
    }
  });

  it('the documented --skip-files check works on a whole `helm template` of another scenario', async () => {
    const res = await helm([
      'template',
      'gw',
      CHART,
      '-f',
      path.join(CHART, 'ci/demo-gateway-values.yaml'),
    ]);
    const checked = await runCli(['config', 'check', '--skip-files', '-'], {}, res.stdout);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(
      /outbound\s+token endpoint https:\/\/token-exchange\.platform\.svc\.cluster\.local:8443\/token/,
    );
    expect(checked.stdout).toMatch(
      /outbound\.tokenExchange\.certFile\s+\/etc\/jwtexchange\/tls\/tls\.crt\s+\(certificate\)/,
    );
    expect(checked.stdout).toContain(
      'note: $SPICEDB_PRESHARED_KEY (spicedb.presharedKeyEnv) is not set here',
    );
  });
});
