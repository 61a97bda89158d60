import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../../test/helpers/envoy.js';
import { freePort } from '../../test/helpers/ports.js';
import { exampleRule } from '../../test/helpers/spicedb.js';
import { checkPort, startAppServer, type ServerUnderTest } from '../lib/servers.js';
import type { SoakPlatform } from './platform.js';

/**
 * The users' topology, as in the demo, every hop real:
 *
 *   users ─► Envoy ingress ─► gateway app          (gateway sidecar: user token + SpiceDB)
 *   saga  ─► Envoy egress ─► Envoy ingress ─► vmcontroller app
 *              (gateway sidecar: service token)   (vmcontroller sidecar: verifies it, JWKS of
 *                                                  token-exchange, which rotates)
 *
 * The apps answer with the identity their sidecar handed them, so every answer can be checked.
 */
export interface SoakTopology {
  readonly gateway: ServerUnderTest;
  readonly vmcontroller: ServerUnderTest;
  readonly ingressPort: number;
  readonly egressPort: number;
  /** Envoy's counters of every listener (ext_authz and the jwtexchange cluster), for post-mortems. */
  envoyStats(): Promise<string>;
  close(): Promise<void>;
}

/** An app that answers 200 with the identity it was handed (x-jwtauth-subject, x-saga-id). */
async function identityApp(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          sub: req.headers['x-jwtauth-subject'] ?? null,
          saga: req.headers['x-saga-id'] ?? null,
        }),
      ),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function gatewayConfig(p: SoakPlatform) {
  const gw = p.pki.clients.gateway!;
  return {
    log: { level: 'info' },
    inbound: {
      issuers: [{ issuer: p.auth.issuer, jwksUri: p.auth.jwksUrl, audiences: ['gateway'] }],
    },
    spicedb: {
      endpoint: p.spicedb.endpoint,
      transport: 'plaintext',
      presharedKeyFile: p.spicedbKeyFile,
    },
    authorization: {
      default: 'allow',
      rules: [exampleRule('create-namespace')],
    },
    outbound: {
      tokenExchange: {
        tokenUrl: p.sts.tokenUrl,
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: p.pki.caFile,
      },
      audiences: [{ audience: 'vmcontroller' }],
    },
  };
}

function vmcontrollerConfig(p: SoakPlatform) {
  return {
    log: { level: 'info' },
    inbound: {
      issuers: [
        {
          issuer: p.sts.issuer,
          jwksUri: p.sts.jwksUrl,
          jwksCaFile: p.pki.caFile,
          audiences: ['vmcontroller'],
          // Refreshed within token-exchange's 20 s publish-ahead window: a new key is known
          // before it signs.
          jwks: { refreshIntervalMs: 10_000 },
        },
      ],
    },
  };
}

/** The shipped Envoy configs of each transport. */
const CONFIGS = {
  grpc: { ingress: 'envoy/ingress.yaml', egress: 'envoy/egress.yaml' },
  http: { ingress: 'envoy/ingress-http.yaml', egress: 'envoy/egress-http.yaml' },
} as const;

export async function startTopology(
  p: SoakPlatform,
  workDir: string,
  resultsDir: string,
  transport: 'grpc' | 'http',
): Promise<SoakTopology> {
  const configs = CONFIGS[transport];
  // The sidecar listener each Envoy's jwtexchange cluster points at.
  const portOf = (s: ServerUnderTest) => checkPort(s, transport);
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const sidecar = async (name: string, config: Record<string, unknown>) => {
      const s = await startAppServer({
        name,
        config,
        workDir,
        logFile: path.join(resultsDir, `${name}.log`),
        // Diagnostics only, e.g. JWTX_SOAK_NODE_FLAGS=--trace-gc (lines land in the log).
        nodeFlags: (process.env.JWTX_SOAK_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      });
      stops.push(() => s.stop());
      return s;
    };
    const envoys: { name: string; envoy: RunningEnvoy }[] = [];
    const envoy = async (
      name: string,
      file: string,
      patches: Parameters<typeof renderEnvoyConfig>[1],
    ) => {
      // The shipped ext_authz timeouts: the soak measures the real configuration.
      const e: RunningEnvoy = await startEnvoy(
        renderEnvoyConfig(file, { ...patches, keepTimeouts: true }),
      );
      envoys.push({ name, envoy: e });
      stops.push(() => e.stop());
    };
    const [gatewayApp, vmApp] = [await identityApp(), await identityApp()];
    stops.push(gatewayApp.close, vmApp.close);
    const gateway = await sidecar('soak-gateway-sidecar', gatewayConfig(p));
    const vmcontroller = await sidecar('soak-vmcontroller-sidecar', vmcontrollerConfig(p));
    const [ingressPort, egressPort, vmIngressPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    await envoy('vmcontroller ingress', configs.ingress, {
      listeners: { ingress: vmIngressPort },
      clusters: { jwtexchange: portOf(vmcontroller), app: vmApp.port },
    });
    await envoy('gateway ingress', configs.ingress, {
      listeners: { ingress: ingressPort },
      clusters: { jwtexchange: portOf(gateway), app: gatewayApp.port },
    });
    await envoy('gateway egress', configs.egress, {
      listeners: { egress: egressPort },
      clusters: { jwtexchange: portOf(gateway), vmcontroller: vmIngressPort },
    });
    const envoyStats = async () => {
      const parts = await Promise.all(
        envoys.map(async ({ name, envoy: e }) => {
          const stats = (await e.stats('ext_authz')) + (await e.stats('cluster.jwtexchange.'));
          return `# ${name}\n${stats}`;
        }),
      );
      return parts.join('\n');
    };
    return { gateway, vmcontroller, ingressPort, egressPort, envoyStats, close };
  } catch (err) {
    await close();
    throw err;
  }
}
