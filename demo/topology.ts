import { parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { startApp, type RunningApp } from '../src/server/app.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../test/helpers/envoy.js';
import { reservePort } from '../test/helpers/ports.js';
import { startGateway } from './apps/gateway.js';
import type { PipelineMode } from './apps/jwtauth-context.js';
import { startVmcontroller } from './apps/vmcontroller.js';
import type { Platform } from './platform.js';
import { identity, type Trace } from './trace.js';
import { internalTokenCheck } from './verify-internal.js';

/**
 * The users' topology for one pipeline mode, everything real on loopback:
 *
 *   vmctl ─► Envoy ingress ─► gateway ── saga ─► Envoy egress ─► Envoy ingress ─► vmcontroller ─► SpiceDB
 *              │ (gateway's jwtexchange)           │ (same sidecar)   │ (vmcontroller's jwtexchange)
 *
 * Mode A `exchange`: the gateway's sidecar exchanges the auth.service token for an internal JWT;
 * apps validate JWTs themselves. Mode B `interceptors-off`: apps trust only x-jwtauth-* headers;
 * the gateway's sidecar validates the user token and checks cloud:<cluster>#create_saga in SpiceDB.
 * `delegation` (mode B): the gateway writes each saga's relations, the saga's calls carry tokens
 * acting for its initiator, and vmcontroller's sidecar enforces the user's create_saga.
 */
export interface Topology {
  readonly mode: PipelineMode;
  /** Sagas run with delegated tokens (docs/delegation.md). */
  readonly delegation: boolean;
  readonly gatewayUrl: string;
  /** ext_authz gRPC addresses of the two sidecars, for `jwtexchange check --server`. */
  readonly sidecars: { readonly gateway: string; readonly vmcontroller: string };
  readonly gateway: Awaited<ReturnType<typeof startGateway>>;
  readonly vmcontroller: Awaited<ReturnType<typeof startVmcontroller>>;
  /** vmcontroller's sidecar (its metrics show which SpiceDB checks it made). */
  readonly vmcontrollerSidecar: RunningApp;
  /** Re-renders the egress listener with the saga route tagged for injection, or not. */
  tagSagaRoute(tagged: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Config documents of the two sidecars; the pipeline mode is a matter of config only. */
function gatewaySidecar(p: Platform, mode: PipelineMode, shortTokens: boolean) {
  const gw = p.pki.clients.gateway!;
  const internal = {
    issuer: p.sts.issuer,
    jwksUri: p.sts.jwksUrl,
    jwksCaFile: p.pki.caFile,
    audiences: ['gateway'],
    serviceTokens: true,
  };
  const user = {
    issuer: p.auth.issuer,
    jwksUri: p.auth.jwksUrl,
    audiences: mode === 'exchange' ? ['token-exchange'] : ['gateway'],
  };
  return {
    server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 1_000 },
    log: { level: 'debug' },
    inbound: {
      issuers:
        mode === 'exchange' ? [{ ...user, exchange: { audience: 'gateway' } }, internal] : [user],
    },
    outbound: {
      // The token endpoint comes from token-exchange's RFC 8414 metadata (docs/interop.md).
      tokenExchange: {
        issuer: p.sts.issuer,
        clientId: 'gateway',
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: p.pki.caFile,
        timeoutMs: 30_000, // not about the deadline: room on a busy machine
      },
      audiences: [{ audience: 'vmcontroller' }],
      // Short-lived usable window, so a token-exchange restart is visible within seconds.
      cache: shortTokens
        ? { refreshAt: 0.02, safetyMarginSeconds: 57, minBackoffMs: 200, maxBackoffMs: 1_000 }
        : {},
    },
    ...(mode === 'interceptors-off'
      ? {
          spicedb: spicedbSection(p),
          authorization: {
            default: 'allow',
            rules: [
              {
                name: 'create-namespace',
                match: { http: 'POST /v2/clusters/{cluster}/namespaces' },
                resource: { type: 'cloud', id: { param: 'cluster' } },
                permission: 'create_saga',
              },
            ],
          },
        }
      : {}),
  };
}

/**
 * vmcontroller's sidecar verifies internal tokens; dry-run lets token-less calls reach the app, as
 * before the fix. With delegation it enforces, and checks the *user* a saga acts for: the token's
 * subject (not its actor, the gateway) must have create_saga on the cluster in the path.
 */
function vmcontrollerSidecar(p: Platform, delegation: boolean) {
  return {
    server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 1_000 },
    log: { level: 'debug' },
    inbound: {
      mode: delegation ? 'enforce' : 'dry-run',
      issuers: [
        {
          issuer: p.sts.issuer,
          jwksUri: p.sts.jwksUrl,
          jwksCaFile: p.pki.caFile,
          audiences: ['vmcontroller'],
          serviceTokens: true,
        },
      ],
    },
    ...(delegation
      ? {
          spicedb: spicedbSection(p),
          authorization: {
            default: 'deny',
            rules: [
              {
                name: 'create-namespace-for-the-user',
                match: { http: 'POST /v1/clusters/{cluster}/namespaces' },
                resource: { type: 'cloud', id: { param: 'cluster' } },
                permission: 'create_saga',
                subject: { from: 'sub' },
              },
            ],
          },
        }
      : {}),
  };
}

const spicedbSection = (p: Platform) => ({
  endpoint: p.spicedb.endpoint,
  transport: 'plaintext',
  presharedKeyFile: p.spicedbKeyFile,
  // Generous: the demo also runs as a test, on machines far busier than a pod.
  timeoutMs: 10_000,
});

async function sidecar(
  doc: object,
  dir: string,
  sink: (line: string) => void,
): Promise<RunningApp> {
  const app = await startApp(parseConfig(doc, dir), { logger: createLogger('debug', sink) });
  try {
    await app.whenReady(60_000);
  } catch (err) {
    await app.shutdown();
    throw err;
  }
  return app;
}

function egressConfig(
  sidecarPort: number,
  listenPort: number,
  upstreamPort: number,
  tagged: boolean,
) {
  return renderEnvoyConfig('envoy/egress.yaml', {
    listeners: { egress: listenPort },
    clusters: { jwtexchange: sidecarPort, vmcontroller: upstreamPort },
    edit(config) {
      if (tagged) return;
      // The original deployment: the saga route exists but nobody asked for a token on it.
      for (const vh of config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
        .route_config.virtual_hosts) {
        for (const route of vh.routes) {
          const ext =
            route.typed_per_filter_config?.['envoy.filters.http.ext_authz']?.check_settings
              ?.context_extensions;
          delete ext?.['jwtexchange.audience'];
          delete ext?.['jwtexchange.delegation'];
        }
      }
    },
  });
}

export async function startTopology(
  p: Platform,
  mode: PipelineMode,
  trace: Trace,
  options: { shortTokens?: boolean; delegation?: boolean } = {},
): Promise<Topology> {
  const delegation = options.delegation ?? false;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const verify = (aud: string) =>
      mode === 'exchange' ? internalTokenCheck(p.sts, p.pki.caFile, aud) : undefined;
    // vmcontroller and its sidecar + ingress.
    const vmcontroller = await startVmcontroller({
      mode,
      ...(verify('vmcontroller') ? { verify: verify('vmcontroller') } : {}),
      writeNamespaceRelation: (id, cluster) => p.writeNamespaceRelation(id, cluster),
      onCall: (c) =>
        trace.add(
          'vmcontroller',
          c.caller?.actor !== undefined
            ? `${c.outcome} namespace ${c.namespaceId} for ${c.caller.sub} by ${c.caller.actor} in saga ${c.caller.saga ?? '?'}`
            : `${c.outcome} namespace ${c.namespaceId} — caller ${identity(c.caller)}`,
        ),
    });
    stops.push(vmcontroller.close);
    const vmSide = await sidecar(
      vmcontrollerSidecar(p, delegation),
      p.dir,
      trace.sidecarSink('vmcontroller'),
    );
    stops.push(() => vmSide.shutdown());
    const vmIngress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: vmSide.grpcPort, app: vmcontroller.port },
      }),
    );
    stops.push(() => vmIngress.stop());
    const vmIngressPort = vmIngress.port('ingress');

    // The gateway's sidecar, its egress (to vmcontroller's ingress) and the gateway app.
    const gwSide = await sidecar(
      gatewaySidecar(p, mode, options.shortTokens ?? false),
      p.dir,
      trace.sidecarSink('gateway'),
    );
    stops.push(() => gwSide.shutdown());
    // The egress Envoy restarts when the route is tagged, and the gateway keeps its URL.
    const reserved = await reservePort();
    stops.push(async () => reserved.release());
    const egressPort = reserved.port;
    let egress: RunningEnvoy = await startEnvoy(
      egressConfig(gwSide.grpcPort, egressPort, vmIngressPort, false),
    );
    stops.push(() => egress.stop());
    const gateway = await startGateway({
      mode,
      ...(verify('gateway') ? { verify: verify('gateway') } : {}),
      egressUrl: `http://127.0.0.1:${egressPort}`,
      sagaBaseDelayMs: 250,
      ...(delegation ? { delegation: { spicedb: p.spicedb.client, executor: 'gateway' } } : {}),
      onAttempt: (saga, a) =>
        trace.add(
          'gateway saga',
          `${saga.id} attempt ${saga.attempts.length}: ${a.ok ? 'ok' : `failed (${a.status ?? 'no HTTP answer'})`}`,
          a.ok ? undefined : (a.error ?? ''),
        ),
    });
    stops.push(gateway.close);
    const ingress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: gwSide.grpcPort, app: gateway.port },
      }),
    );
    stops.push(() => ingress.stop());
    const ingressPort = ingress.port('ingress');
    return {
      mode,
      delegation,
      gatewayUrl: `http://127.0.0.1:${ingressPort}`,
      sidecars: {
        gateway: `127.0.0.1:${gwSide.grpcPort}`,
        vmcontroller: `127.0.0.1:${vmSide.grpcPort}`,
      },
      gateway,
      vmcontroller,
      vmcontrollerSidecar: vmSide,
      async tagSagaRoute(tagged) {
        await egress.stop();
        egress = await startEnvoy(egressConfig(gwSide.grpcPort, egressPort, vmIngressPort, tagged));
        trace.add(
          'operator',
          `egress saga route ${!tagged ? 'untagged' : delegation ? 'TAGGED (jwtexchange.delegation: saga on /v1/clusters/…)' : 'TAGGED (jwtexchange.audience: vmcontroller)'}`,
        );
      },
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
