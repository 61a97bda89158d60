import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  CHART,
  findObject,
  helm,
  helmTemplate,
  helmTemplateError,
  kinds,
  podContainers,
  type K8sObject,
} from '../helpers/helm.js';

/** `helm lint` and `helm template` of the real chart with the real helm, per ci/ scenario. */

const SCENARIOS = ['default', 'demo-gateway', 'mtls', 'cert-manager'] as const;
const values = (s: (typeof SCENARIOS)[number]) => [`ci/${s}-values.yaml`];
const envoyConfig = (objects: K8sObject[]) =>
  parseYaml(
    findObject(objects, 'ConfigMap', 'gw-jwtexchange-envoy').data['envoy.yaml'],
  ) as K8sObject;
const listener = (config: K8sObject, name: string) =>
  config.static_resources.listeners.find((l: K8sObject) => l.name === name);
const hcm = (l: K8sObject) => l.filter_chains[0].filters[0].typed_config;
const extensions = (route: K8sObject) =>
  route.typed_per_filter_config?.['envoy.filters.http.ext_authz']?.check_settings
    ?.context_extensions;

describe('helm lint', () => {
  it.each(SCENARIOS.flatMap((s) => [[s, 'grpc'] as const, [s, 'http'] as const]))(
    'passes --strict with ci/%s-values.yaml and checkTransport %s',
    async (scenario, transport) => {
      const res = await helm([
        'lint',
        CHART,
        '--strict',
        '--values',
        path.join(CHART, values(scenario)[0]!),
        '--set',
        `jwtexchange.checkTransport=${transport}`,
      ]);
      expect(res.stdout + res.stderr).toContain('0 chart(s) failed');
      expect(res.code).toBe(0);
    },
  );
});

describe('default values (sidecars for an existing Deployment)', () => {
  let objects: K8sObject[];
  beforeAll(async () => (objects = await helmTemplate({ values: values('default') })));

  it('renders only the two ConfigMaps: no pods are selected, so nothing that selects pods', () => {
    expect(kinds(objects)).toEqual([
      'ConfigMap/gw-jwtexchange-config',
      'ConfigMap/gw-jwtexchange-envoy',
    ]);
  });

  it('points Envoy at jwtexchange on loopback and renders all three listeners', () => {
    const config = envoyConfig(objects);
    expect(config.static_resources.listeners.map((l: K8sObject) => l.name)).toEqual([
      'ingress',
      'egress',
      'health',
    ]);
    const cluster = config.static_resources.clusters.find(
      (c: K8sObject) => c.name === 'jwtexchange',
    );
    expect(
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
    ).toEqual({
      address: '127.0.0.1',
      port_value: 9191,
    });
    expect(listener(config, 'egress').address.socket_address.address).toBe('127.0.0.1');
    expect(config.admin.address.socket_address.address).toBe('127.0.0.1');
  });

  it('fails closed: ext_authz errors are 503, never an allow', () => {
    const filters = hcm(listener(envoyConfig(objects), 'ingress')).http_filters;
    const authz = filters.find(
      (f: K8sObject) => f.name === 'envoy.filters.http.ext_authz',
    ).typed_config;
    expect(authz.failure_mode_allow).toBe(false);
    expect(authz.status_on_error).toEqual({ code: 'ServiceUnavailable' });
    expect(authz.transport_api_version).toBe('V3');
    expect(authz.grpc_service.timeout).toBe('1s');
    // Outbound checks may wait for a cold exchange (token client deadline 2 s): a longer timeout.
    const egress = hcm(listener(envoyConfig(objects), 'egress')).http_filters[0].typed_config;
    expect(egress).toMatchObject({ failure_mode_allow: false, grpc_service: { timeout: '3s' } });
    // The header_mutation filter strips spoofed identity headers before ext_authz runs.
    expect(filters.map((f: K8sObject) => f.name)).toEqual([
      'envoy.filters.http.header_mutation',
      'envoy.filters.http.ext_authz',
      'envoy.filters.http.router',
    ]);
  });
});

describe('demo gateway', () => {
  let objects: K8sObject[];
  let pod: K8sObject;
  beforeAll(async () => {
    objects = await helmTemplate({ values: values('demo-gateway') });
    pod = findObject(objects, 'Deployment').spec.template.spec;
  });

  it('renders the gateway, its Services, the monitoring kit and the NetworkPolicy', () => {
    expect(kinds(objects)).toEqual([
      'ConfigMap/gw-jwtexchange-config',
      'ConfigMap/gw-jwtexchange-dashboard',
      'ConfigMap/gw-jwtexchange-envoy',
      'Deployment/gw-jwtexchange-gateway',
      'NetworkPolicy/gw-jwtexchange',
      'PrometheusRule/gw-jwtexchange',
      'Service/gw-jwtexchange-gateway',
      'Service/gw-jwtexchange-metrics',
      'ServiceMonitor/gw-jwtexchange',
    ]);
  });

  it('runs Envoy and jwtexchange as native sidecars that start before the gateway', () => {
    expect(pod.initContainers.map((c: K8sObject) => [c.name, c.restartPolicy])).toEqual([
      ['envoy', 'Always'],
      ['jwtexchange', 'Always'],
    ]);
    expect(pod.containers.map((c: K8sObject) => c.name)).toEqual(['gateway']);
    const jwtx = pod.initContainers[1];
    expect(jwtx.image).toBe('ghcr.io/jwtexchange/jwtexchange:0.1.0');
    expect(jwtx.args).toEqual(['serve', '--config', '/etc/jwtexchange/config.yaml']);
  });

  it('probes /readyz and /healthz on jwtexchange, /ready on Envoy', () => {
    const [envoy, jwtx] = pod.initContainers;
    expect(jwtx.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'jwtx-metrics' });
    expect(jwtx.startupProbe.httpGet).toEqual({ path: '/readyz', port: 'jwtx-metrics' });
    expect(jwtx.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'jwtx-metrics' });
    expect(envoy.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'envoy-health' });
    expect(envoy.lifecycle.preStop.sleep.seconds).toBe(5);
  });

  it('applies secure defaults to the pod and to every container', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of podContainers(pod)) {
      expect(c.securityContext, c.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      // Read-only root: the only writable mount is an emptyDir at /tmp.
      for (const m of c.volumeMounts ?? []) {
        if (m.readOnly !== true) expect(m.mountPath, c.name).toBe('/tmp');
      }
    }
  });

  it('mounts ConfigMaps that the chart renders and rolls the pods when they change', async () => {
    const names = new Set(
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name),
    );
    for (const v of pod.volumes.filter((x: K8sObject) => x.configMap)) {
      expect(names).toContain(v.configMap.name);
    }
    const annotations = findObject(objects, 'Deployment').spec.template.metadata.annotations;
    const changed = await helmTemplate({
      values: values('demo-gateway'),
      set: { 'envoy.extAuthzTimeout': '2s' },
    });
    const after = findObject(changed, 'Deployment').spec.template.metadata.annotations;
    expect(after['checksum/envoy-config']).not.toBe(annotations['checksum/envoy-config']);
    expect(after['checksum/jwtexchange-config']).toBe(annotations['checksum/jwtexchange-config']);
  });

  it('gives jwtexchange extra env and volumes (SpiceDB key and CA), and nothing else gets them', () => {
    const [envoy, jwtx] = pod.initContainers;
    expect(jwtx.env).toEqual([
      {
        name: 'SPICEDB_PRESHARED_KEY',
        valueFrom: { secretKeyRef: { name: 'spicedb-preshared-key', key: 'key' } },
      },
    ]);
    expect(jwtx.volumeMounts).toContainEqual({
      name: 'spicedb-ca',
      mountPath: '/etc/jwtexchange/spicedb',
      readOnly: true,
    });
    expect(pod.volumes.map((v: K8sObject) => v.name)).toContain('spicedb-ca');
    expect(envoy.env).toBeUndefined();
    expect(envoy.volumeMounts.map((m: K8sObject) => m.name)).not.toContain('spicedb-ca');
  });

  it('exposes only Envoy: the gateway Service targets the ingress listener', () => {
    const svc = findObject(objects, 'Service', 'gw-jwtexchange-gateway');
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'envoy-ingress', protocol: 'TCP' },
    ]);
  });

  it('lets nothing reach the app port past the NetworkPolicy', () => {
    const np = findObject(objects, 'NetworkPolicy');
    const podLabels = findObject(objects, 'Deployment').spec.template.metadata.labels;
    expect(podLabels).toMatchObject(np.spec.podSelector.matchLabels);
    const ports = np.spec.ingress.flatMap((r: K8sObject) => r.ports.map((p: K8sObject) => p.port));
    expect(ports.sort()).toEqual(['envoy-health', 'envoy-ingress', 'jwtx-metrics']);
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({
      'kubernetes.io/metadata.name': 'ingress',
    });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress[0].ports).toContainEqual({ port: 53, protocol: 'UDP' });
  });

  it('scrapes every pod through a headless Service the ServiceMonitor selects', () => {
    const svc = findObject(objects, 'Service', 'gw-jwtexchange-metrics');
    const podLabels = findObject(objects, 'Deployment').spec.template.metadata.labels;
    expect(svc.spec.clusterIP).toBe('None');
    expect(podLabels).toMatchObject(svc.spec.selector);
    const sm = findObject(objects, 'ServiceMonitor');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    const svcPorts = svc.spec.ports.map((p: K8sObject) => p.name);
    for (const ep of sm.spec.endpoints) expect(svcPorts).toContain(ep.port);
    // The dashboard and the alert rules select job="jwtexchange".
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'jwtx-metrics', path: '/metrics' });
    expect(sm.spec.endpoints[0].relabelings).toEqual([
      { targetLabel: 'job', replacement: 'jwtexchange' },
    ]);
  });

  it('ships the alert rules file and the dashboard unchanged', () => {
    const rules = parseYaml(
      readFileSync(path.join(CHART, 'alerts/jwtexchange.rules.yaml'), 'utf8'),
    );
    expect(findObject(objects, 'PrometheusRule').spec).toEqual(rules);
    const dashboard = findObject(objects, 'ConfigMap', 'gw-jwtexchange-dashboard');
    expect(dashboard.metadata.labels.grafana_dashboard).toBe('1');
    expect(dashboard.metadata.annotations.grafana_folder).toBe('Platform');
    expect(JSON.parse(dashboard.data['jwtexchange.json'])).toEqual(
      JSON.parse(readFileSync(path.join(CHART, 'dashboards/jwtexchange.json'), 'utf8')),
    );
  });

  it('generates saga-tagged egress routes from values (service and delegated tokens)', () => {
    const vhosts = hcm(listener(envoyConfig(objects), 'egress')).route_config.virtual_hosts;
    const vm = vhosts.find((v: K8sObject) => v.name === 'vmcontroller');
    expect(vm.domains).toEqual(['vmcontroller', 'vmcontroller.platform.svc.cluster.local']);
    expect(vm.routes.map((r: K8sObject) => [r.match, extensions(r)])).toEqual([
      [
        { prefix: '/vmcontroller.v1.ClusterService/' },
        {
          'jwtexchange.direction': 'outbound',
          'jwtexchange.audience': 'vmcontroller',
          'jwtexchange.delegation': 'saga',
        },
      ],
      [
        { prefix: '/vmcontroller.v1.NamespaceService/' },
        {
          'jwtexchange.direction': 'outbound',
          'jwtexchange.audience': 'vmcontroller',
          'jwtexchange.when-header': 'x-saga-id',
        },
      ],
      [
        { prefix: '/v1/namespaces' },
        {
          'jwtexchange.direction': 'outbound',
          'jwtexchange.audience': 'vmcontroller',
          'jwtexchange.scope': 'namespace:write',
        },
      ],
      [{ prefix: '/' }, { 'jwtexchange.direction': 'outbound' }],
    ]);
    expect(vm.routes[0].route).toMatchObject({
      cluster: 'egress_vmcontroller',
      auto_host_rewrite: true,
    });
    // An upstream without routes gets one untagged route; an unknown host gets a 404.
    const billing = vhosts.find((v: K8sObject) => v.name === 'billing');
    expect(billing.routes.map(extensions)).toEqual([{ 'jwtexchange.direction': 'outbound' }]);
    const unknown = vhosts.at(-1);
    expect(unknown.domains).toEqual(['*']);
    expect(unknown.routes[0].direct_response.status).toBe(404);
  });

  it('exempts the configured ingress routes and checks everything else inbound', () => {
    const routes = hcm(listener(envoyConfig(objects), 'ingress')).route_config.virtual_hosts[0]
      .routes;
    expect(routes.map((r: K8sObject) => [r.match, extensions(r)])).toEqual([
      [{ path: '/healthz' }, { 'jwtexchange.exempt': 'true' }],
      [{ prefix: '/public/' }, { 'jwtexchange.exempt': 'true' }],
      [{ prefix: '/' }, { 'jwtexchange.direction': 'inbound' }],
    ]);
  });
});

describe('mTLS from an existing Secret, plain containers', () => {
  let objects: K8sObject[];
  let pod: K8sObject;
  beforeAll(async () => {
    objects = await helmTemplate({ values: values('mtls') });
    pod = findObject(objects, 'Deployment').spec.template.spec;
  });

  it('puts the sidecars next to the gateway when native sidecars are off', () => {
    expect(pod.initContainers).toBeUndefined();
    expect(pod.containers.map((c: K8sObject) => c.name)).toEqual([
      'gateway',
      'envoy',
      'jwtexchange',
    ]);
    expect(pod.containers[1].restartPolicy).toBeUndefined();
  });

  it('mounts the Secret read-only into both sidecars, readable by the pod group only', () => {
    const tls = pod.volumes.find((v: K8sObject) => v.name === 'jwtexchange-tls');
    expect(tls.secret).toEqual({ secretName: 'gateway-mtls', defaultMode: 0o440 });
    for (const name of ['envoy', 'jwtexchange']) {
      const c = pod.containers.find((x: K8sObject) => x.name === name);
      expect(c.volumeMounts).toContainEqual({
        name: 'jwtexchange-tls',
        mountPath: '/etc/jwtexchange/tls',
        readOnly: true,
      });
    }
    expect(pod.containers[0].volumeMounts.map((m: K8sObject) => m.name)).not.toContain(
      'jwtexchange-tls',
    );
  });

  it('serves TLS on ingress, requiring client certificates, with certificates from SDS files', () => {
    const cm = findObject(objects, 'ConfigMap', 'gw-jwtexchange-envoy');
    const tls = listener(parseYaml(cm.data['envoy.yaml']), 'ingress').filter_chains[0]
      .transport_socket;
    expect(tls.typed_config.require_client_certificate).toBe(true);
    const sds = tls.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0];
    expect(sds.sds_config.path_config_source).toEqual({
      path: '/etc/envoy/sds-cert.yaml',
      watched_directory: { path: '/etc/envoy' },
    });
    const secret = parseYaml(cm.data['sds-cert.yaml']).resources[0];
    expect(secret.tls_certificate).toEqual({
      certificate_chain: { filename: '/etc/jwtexchange/tls/tls.crt' },
      private_key: { filename: '/etc/jwtexchange/tls/tls.key' },
      // Reloaded when the kubelet swaps the Secret's files: rotation needs no restart.
      watched_directory: { path: '/etc/jwtexchange/tls' },
    });
  });

  it('verifies upstream certificates against the CA and the dialled name', () => {
    const config = envoyConfig(objects);
    const cluster = config.static_resources.clusters.find(
      (c: K8sObject) => c.name === 'egress_vmcontroller',
    );
    const tls = cluster.transport_socket.typed_config;
    expect(tls.sni).toBe('vmcontroller.platform.svc.cluster.local');
    expect(tls.common_tls_context.alpn_protocols).toEqual(['h2']);
    expect(tls.common_tls_context.combined_validation_context.default_validation_context).toEqual({
      match_typed_subject_alt_names: [
        { san_type: 'DNS', matcher: { exact: 'vmcontroller.platform.svc.cluster.local' } },
      ],
    });
  });
});

describe('cert-manager, sidecars in an existing Deployment', () => {
  let objects: K8sObject[];
  beforeAll(async () => (objects = await helmTemplate({ values: values('cert-manager') })));

  it('issues a certificate that names the service token-exchange allowlists', () => {
    const cert = findObject(objects, 'Certificate');
    expect(cert.spec).toMatchObject({
      secretName: 'gw-jwtexchange-tls',
      commonName: 'gateway',
      dnsNames: ['gateway', 'gateway.platform.svc'],
      issuerRef: { name: 'platform-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      privateKey: { rotationPolicy: 'Always' },
    });
    expect(cert.spec.usages).toEqual(expect.arrayContaining(['client auth', 'server auth']));
  });

  it('selects the existing pods by podSelector and renders no Deployment', () => {
    expect(objects.filter((o) => o.kind === 'Deployment')).toEqual([]);
    const np = findObject(objects, 'NetworkPolicy');
    expect(np.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'gwadmin' });
    expect(findObject(objects, 'Service').spec.selector).toEqual({
      'app.kubernetes.io/name': 'gwadmin',
    });
    expect(
      findObject(objects, 'ServiceMonitor').spec.endpoints.map((e: K8sObject) => e.port),
    ).toEqual(['jwtx-metrics']);
  });
});

describe('HTTP transport (jwtexchange.checkTransport http)', () => {
  const HTTP = { 'jwtexchange.checkTransport': 'http' };
  let grpc: K8sObject[];
  let http: K8sObject[];
  beforeAll(async () => {
    grpc = await helmTemplate({ values: values('demo-gateway') });
    http = await helmTemplate({ values: values('demo-gateway'), set: HTTP });
  });

  const config = (objects: K8sObject[]) =>
    parseYaml(findObject(objects, 'ConfigMap', 'gw-jwtexchange-config').data['config.yaml']);
  const authz = (objects: K8sObject[], name: string) =>
    hcm(listener(envoyConfig(objects), name)).http_filters.find(
      (f: K8sObject) => f.name === 'envoy.filters.http.ext_authz',
    ).typed_config;
  const routes = (objects: K8sObject[]) => [
    ...hcm(listener(envoyConfig(objects), 'ingress')).route_config.virtual_hosts[0].routes,
    ...hcm(listener(envoyConfig(objects), 'egress'))
      .route_config.virtual_hosts.slice(0, -1)
      .flatMap((v: K8sObject) => v.routes),
  ];
  /** The route header as jwtexchange reads it: Envoy turns the formatter's `%%` into `%`. */
  const routeHeader = (route: K8sObject) => {
    const mutations =
      route.typed_per_filter_config?.['envoy.filters.http.header_mutation']?.mutations
        .request_mutations;
    if (!mutations) return undefined;
    expect(mutations).toHaveLength(1);
    expect(mutations[0].append.append_action).toBe('OVERWRITE_IF_EXISTS_OR_ADD');
    expect(mutations[0].append.header.key).toBe('x-jwtexchange-route');
    const value = String(mutations[0].append.header.value).replaceAll('%%', '%');
    return Object.fromEntries(new URLSearchParams(value));
  };

  it('opens the HTTP check listener on loopback, with the longer of the two Envoy timeouts', () => {
    expect(config(http).server).toMatchObject({
      grpcAddress: '127.0.0.1:9191', // still there, for `jwtexchange check --explain`
      httpCheckAddress: '127.0.0.1:9192',
      httpCheckTimeoutMs: 3000, // envoy.egress.extAuthzTimeout 3s > envoy.extAuthzTimeout 1s
    });
    expect(config(grpc).server.httpCheckAddress).toBeUndefined();
    // Only the server section differs.
    expect({ ...config(http), server: undefined }).toEqual({ ...config(grpc), server: undefined });
  });

  it('points ext_authz at the HTTP/1.1 listener on both listeners, failing closed', () => {
    const cluster = envoyConfig(http).static_resources.clusters.find(
      (c: K8sObject) => c.name === 'jwtexchange',
    );
    const options =
      cluster.typed_extension_protocol_options[
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
      ];
    expect(options.explicit_http_config).toEqual({ http_protocol_options: {} });
    expect(options.common_http_protocol_options).toEqual({ idle_timeout: '3600s' });
    expect(
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
    ).toEqual({ address: '127.0.0.1', port_value: 9192 });
    for (const [name, timeout] of [
      ['ingress', '1s'],
      ['egress', '3s'],
    ]) {
      const filter = authz(http, name!);
      expect(filter.grpc_service).toBeUndefined();
      expect(filter).toMatchObject({
        transport_api_version: 'V3',
        failure_mode_allow: false,
        status_on_error: { code: 'ServiceUnavailable' },
        http_service: {
          server_uri: { uri: 'http://127.0.0.1:9192', cluster: 'jwtexchange', timeout },
          // Only what never reached jwtexchange is retried; the per-try timeout is the timeout.
          retry_policy: {
            retry_on: 'connect-failure,reset',
            retry_back_off: { max_interval: timeout },
          },
        },
      });
    }
  });

  it("carries every route's settings in x-jwtexchange-route, the same as the gRPC extensions", () => {
    const expected = routes(grpc).map(extensions);
    expect(expected.every((e: unknown) => e !== undefined)).toBe(true);
    expect(routes(http).map(routeHeader)).toEqual(expected);
    for (const r of routes(http))
      expect(r.typed_per_filter_config['envoy.filters.http.ext_authz']).toBeUndefined();
  });

  it('removes a client-sent route header first, on both listeners', () => {
    for (const name of ['ingress', 'egress']) {
      const [first] = hcm(listener(envoyConfig(http), name)).http_filters;
      expect(first.name).toBe('envoy.filters.http.header_mutation');
      expect(first.typed_config.mutations.request_mutations[0]).toEqual({
        remove: 'x-jwtexchange-route',
      });
      // Filter-level first, then the route's: the default order, never reversed here.
      expect(first.typed_config.most_specific_header_mutations_wins).toBeUndefined();
    }
  });

  it('sends jwtexchange every header it reads, and takes back only what it sets', () => {
    const allowed = (name: string) =>
      authz(http, name).allowed_headers.patterns.map((p: K8sObject) => Object.values(p)[0]);
    expect(allowed('ingress')).toEqual([
      'x-jwtexchange-route',
      'content-type',
      'x-request-id',
      'x-spicedb-zedtoken',
      'x-jwtauth-', // prefix: client-sent identity headers, removed on every inbound check
    ]);
    expect(allowed('egress')).toEqual([
      'x-jwtexchange-route',
      'content-type',
      'x-request-id',
      'x-saga-id', // the delegation route's saga id, and the when-header tag
    ]);
    const response = (name: string) => authz(http, name).http_service.authorization_response;
    expect(response('ingress').allowed_upstream_headers.patterns).toEqual([
      { prefix: 'x-jwtauth-' },
      { exact: 'authorization' },
    ]);
    expect(response('egress').allowed_upstream_headers.patterns).toEqual([
      { exact: 'authorization' },
    ]);
    expect(response('ingress').allowed_client_headers.patterns).toEqual([
      { exact: 'x-jwtauth-reason' },
      { exact: 'content-type' },
    ]);
  });

  it('lists headers named by rules, the configured ZedToken and saga headers and route tags', async () => {
    const objects = await helmTemplate({
      values: values('demo-gateway'),
      set: {
        ...HTTP,
        'jwtexchange.config.authorization.zedTokenHeader': 'x-zed',
        'jwtexchange.config.authorization.rules[0].match.http': 'GET /v1/things',
        'jwtexchange.config.authorization.rules[0].resource.type': 'cloud',
        'jwtexchange.config.authorization.rules[0].resource.id.header': 'x-cloud-id',
        'jwtexchange.config.authorization.rules[0].permission': 'view',
        'jwtexchange.config.outbound.delegation.sagaIdHeader': 'x-workflow-id',
        'envoy.egress.upstreams[1].routes[0].prefix': '/',
        'envoy.egress.upstreams[1].routes[0].audience': 'vmcontroller',
        'envoy.egress.upstreams[1].routes[0].whenHeader': 'x-billing-run',
      },
    });
    const patterns = (name: string) => authz(objects, name).allowed_headers.patterns;
    expect(patterns('ingress')).toEqual(
      expect.arrayContaining([{ exact: 'x-zed' }, { exact: 'x-cloud-id' }]),
    );
    expect(patterns('ingress')).not.toContainEqual({ exact: 'x-spicedb-zedtoken' });
    expect(patterns('egress')).toEqual(
      expect.arrayContaining([
        { exact: 'x-workflow-id' },
        { exact: 'x-saga-id' },
        { exact: 'x-billing-run' },
      ]),
    );
  });

  it('form-encodes route values that would change their meaning in the header', async () => {
    const audience = 'a&b=c+d 100%';
    const objects = await helmTemplate({
      values: values('demo-gateway'),
      set: {
        ...HTTP,
        'jwtexchange.config.outbound.audiences[1].audience': audience,
        'envoy.egress.upstreams[1].routes[0].prefix': '/',
        'envoy.egress.upstreams[1].routes[0].audience': audience,
      },
    });
    const billing = hcm(listener(envoyConfig(objects), 'egress')).route_config.virtual_hosts[1];
    expect(routeHeader(billing.routes[0])).toEqual({
      'jwtexchange.audience': audience,
      'jwtexchange.direction': 'outbound',
    });
  });

  it('rolls the pods when the transport changes', () => {
    const annotations = (objects: K8sObject[]) =>
      findObject(objects, 'Deployment').spec.template.metadata.annotations;
    expect(annotations(http)['checksum/envoy-config']).not.toBe(
      annotations(grpc)['checksum/envoy-config'],
    );
    expect(annotations(http)['checksum/jwtexchange-config']).not.toBe(
      annotations(grpc)['checksum/jwtexchange-config'],
    );
  });
});

describe('bad values get a clear error', () => {
  it.each([
    [{ 'envoy.ingress.port': '0' }, "at '/envoy/ingress/port'"],
    [{ unknownKey: 'x' }, "additional properties 'unknownKey' not allowed"],
    [{ 'envoy.egress.upstreams[0].name': 'a' }, "missing properties 'address', 'port'"],
    [
      {
        'envoy.egress.upstreams[0].name': 'Bad_Name',
        'envoy.egress.upstreams[0].address': 'x',
        'envoy.egress.upstreams[0].port': '1',
      },
      "at '/envoy/egress/upstreams/0/name'",
    ],
    [{ 'jwtexchange.image.digest': 'latest' }, "at '/jwtexchange/image/digest'"],
  ])('schema: %j', async (set, message) => {
    expect(await helmTemplateError({ set })).toContain(message);
  });

  it('refuses TLS upstreams without a TLS Secret', async () => {
    const err = await helmTemplateError({
      set: {
        'envoy.egress.upstreams[0].name': 'vm',
        'envoy.egress.upstreams[0].address': 'vm.svc',
        'envoy.egress.upstreams[0].port': '443',
        'envoy.egress.upstreams[0].tls.enabled': 'true',
      },
    });
    expect(err).toContain('needs tls.enabled=true');
  });

  it('refuses cert-manager without an issuer, and duplicate upstream names', async () => {
    expect(
      await helmTemplateError({
        set: { 'tls.enabled': 'true', 'tls.certManager.enabled': 'true' },
      }),
    ).toContain('tls.certManager.issuerRef.name');
    const dup = { name: 'vm', address: 'vm.svc', port: '80' };
    const set: Record<string, string> = {};
    for (const i of [0, 1])
      for (const [k, v] of Object.entries(dup)) set[`envoy.egress.upstreams[${i}].${k}`] = v;
    expect(await helmTemplateError({ set })).toContain('duplicate name "vm"');
  });

  it('refuses two upstreams that the same Host would select', async () => {
    const set: Record<string, string> = {};
    for (const [i, name] of ['vm', 'vm2'].entries()) {
      Object.assign(set, {
        [`envoy.egress.upstreams[${i}].name`]: name,
        [`envoy.egress.upstreams[${i}].address`]: 'shared.svc',
        [`envoy.egress.upstreams[${i}].port`]: '80',
      });
    }
    expect(await helmTemplateError({ set })).toContain('"shared.svc" selects both vm and vm2');
  });

  it('refuses a route with neither path nor prefix', async () => {
    const base = {
      'envoy.egress.upstreams[0].name': 'vm',
      'envoy.egress.upstreams[0].address': 'vm.svc',
      'envoy.egress.upstreams[0].port': '80',
    };
    expect(
      await helmTemplateError({
        set: { ...base, 'envoy.egress.upstreams[0].routes[0].audience': 'vm' },
      }),
    ).toContain("at '/envoy/egress/upstreams/0/routes/0'");
    expect(
      await helmTemplateError({
        set: {
          ...base,
          'envoy.egress.upstreams[0].routes[0].prefix': '/',
          'envoy.egress.upstreams[0].routes[0].delegation': 'user',
        },
      }),
    ).toContain("at '/envoy/egress/upstreams/0/routes/0/delegation'");
  });
});
