import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { SidecarMetrics } from '../../src/metrics/sidecar.js';
import { SagaExecutor, type SagaState } from '../../demo/apps/saga-executor.js';
import { systemClock } from '../../src/clock.js';
import type { Clock, Timers } from '../../src/clock.js';
import { startTestApp, type TestApp } from './app.js';
import { startEchoUpstream, type EchoUpstream } from './echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from './envoy.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { waitFor } from './ports.js';
import { startTestTokenExchange, type TestTokenExchange } from './token-exchange.js';

/** What a client behind Envoy saw: the status and the reason header of a denial. */
export interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP/1.1 request through an Envoy listener; Host is set explicitly (fetch forbids it). */
export function send(
  port: number,
  o: { method?: string; path?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: o.path ?? '/',
        method: o.method ?? 'GET',
        agent,
        headers: { host: o.host ?? 'app', ...o.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.headers['x-jwtauth-reason'] as string | undefined,
            body,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sum of a metric's samples whose labels include `labels` (all samples when none given). */
export async function metricValue(
  metrics: SidecarMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => !('metricName' in v && v.metricName && v.metricName !== name))
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k] ?? '') === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Parsed JSON log lines with this msg. */
export function logLines(logs: readonly string[], msg: string): Record<string, unknown>[] {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
}

/** Nothing shaped like a JWT or PEM block in any log line. */
export function leakedSecrets(logs: readonly string[]): string[] {
  return logs.filter((l) => /eyJ[A-Za-z0-9_-]{8,}\.|-----BEGIN/.test(l));
}

/**
 * A saga in the demo's terms: the step runs in the background with an empty context and is
 * retried with backoff until it succeeds (demo/apps/saga-executor.ts). `attempt` answers what the
 * sidecar path answered; the saga succeeds on a 200.
 */
export function startSaga(attempt: () => Promise<Answer>): {
  readonly state: SagaState;
  readonly answers: Answer[];
  done(timeoutMs?: number): Promise<SagaState>;
  stop(): void;
} {
  const answers: Answer[] = [];
  const executor = new SagaExecutor({ clock: systemClock, baseDelayMs: 50, maxDelayMs: 200 });
  const state = executor.add(`saga-${Math.random().toString(16).slice(2)}`, 'fault', async () => {
    const a = await attempt();
    answers.push(a);
    return { ok: a.status === 200, status: a.status, ...(a.reason ? { error: a.reason } : {}) };
  });
  return {
    state,
    answers,
    done: async (timeoutMs = 15_000) => {
      await waitFor(() => state.status !== 'running', 'the saga to finish', timeoutMs);
      return state;
    },
    stop: () => executor.stop(),
  };
}

/** An HTTPS server (not listening) for FaultProxy `{ serve }`: answers every request itself. */
export function httpsAnswering(
  tls: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer },
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): https.Server {
  const server = https.createServer(
    { ...tls, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.ca !== undefined },
    (req, res) => {
      req.resume();
      req.on('end', () => answer(req, res));
    },
  );
  server.on('tlsClientError', () => undefined);
  return server;
}

/** A server (not listening) that writes bytes that are not TLS, HTTP or gRPC, then closes. */
export function garbageServer(bytes = Buffer.from('\u0000\u00ffnot a protocol\r\n\r\n')) {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume(); // read to the end, so the client's close is seen
    socket.end(bytes);
  });
}

export type Transport = 'grpc' | 'http';
export const TRANSPORTS: readonly Transport[] = ['grpc', 'http'];

/** The gateway's Envoys for one ext_authz transport: egress (to vmcontroller) and ingress. */
export interface GatewayEnvoys {
  readonly egress: RunningEnvoy;
  readonly ingress: RunningEnvoy;
}

/** The check ports of a sidecar started in-process, for startGatewayEnvoys. */
export const checkPorts = (t: TestApp): Record<Transport, number> => ({
  grpc: t.app.grpcPort,
  http: t.app.httpCheckPort!,
});

/**
 * The shipped egress and ingress configs of both transports (envoy/egress.yaml, ingress.yaml and
 * their -http twins) in front of one sidecar's check ports; `extAuthzTimeout` as in
 * renderEnvoyConfig.
 */
export async function startGatewayEnvoys(
  check: Record<Transport, number>,
  upstreams: { vmcontroller: number; app: number },
  extAuthzTimeout?: string,
): Promise<Record<Transport, GatewayEnvoys>> {
  const started: Partial<Record<Transport, GatewayEnvoys>> = {};
  for (const via of TRANSPORTS) {
    const suffix = via === 'grpc' ? '' : '-http';
    const start = (file: string, upstream: Record<string, number>) =>
      startEnvoy(
        renderEnvoyConfig(file, {
          clusters: { jwtexchange: check[via], ...upstream },
          ...(extAuthzTimeout ? { extAuthzTimeout } : {}),
        }),
      );
    started[via] = {
      egress: await start(`envoy/egress${suffix}.yaml`, { vmcontroller: upstreams.vmcontroller }),
      ingress: await start(`envoy/ingress${suffix}.yaml`, { app: upstreams.app }),
    };
  }
  return started as Record<Transport, GatewayEnvoys>;
}

/** Stops what startGatewayEnvoys started (any part of it). */
export async function stopGatewayEnvoys(
  envoys: Partial<Record<Transport, GatewayEnvoys>> | undefined,
): Promise<void> {
  for (const via of TRANSPORTS) {
    await envoys?.[via]?.egress.stop();
    await envoys?.[via]?.ingress.stop();
  }
}

/** What the token-exchange fault rows run against (startTokenExchangeScene). */
export interface TokenExchangeScene {
  /** A real token-exchange (clients gateway and vmcontroller, a dev auth.service)… */
  readonly sts: TestTokenExchange;
  /** …and the fault proxy the sidecar's /token calls go through. */
  readonly proxy: FaultProxy;
  /** The sidecar, in-process, with both check listeners. */
  readonly t: TestApp;
  readonly vmcontroller: EchoUpstream;
  /** The gateway's egress and ingress Envoys of both transports. */
  readonly envoys: Record<Transport, GatewayEnvoys>;
  /** The saga's call: gateway → egress → vmcontroller, tagged by x-saga-id (needs a service token). */
  sagaCall(via?: Transport): Promise<Answer>;
  /** A user's call into the gateway with a fresh auth.service token: it needs an exchange. */
  userCall(via?: Transport): Promise<Answer>;
  /** Stops everything, in reverse order. */
  close(): Promise<void>;
}

/**
 * The scene of the token-exchange fault rows: token-exchange behind a fault proxy, the sidecar
 * exchanging through it (`tokenExchange` settings on top of the client's), echo upstreams for
 * vmcontroller and the gateway app, and the gateway's Envoys of both transports in front (with
 * `extAuthzTimeout` as in renderEnvoyConfig). A part that fails to start stops the ones before it.
 */
export async function startTokenExchangeScene(o: {
  clock: Clock;
  timers: Timers;
  ttlSeconds: number;
  tokenExchange?: Record<string, unknown>;
  extAuthzTimeout?: string;
}): Promise<TokenExchangeScene> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      ttlSeconds: o.ttlSeconds,
      devAuth: true,
      clock: o.clock,
    });
    closers.push(() => sts.close());
    const proxy = await startFaultProxy(sts.port);
    closers.push(() => proxy.close());
    const t = await startTestApp(
      () => ({
        server: { httpCheckAddress: '127.0.0.1:0' },
        outbound: {
          tokenExchange: {
            ...sts.clientSettings('gateway'),
            tokenUrl: `https://127.0.0.1:${proxy.port}/token`,
            ...o.tokenExchange,
          },
          audiences: [{ audience: 'vmcontroller' }],
        },
        // Only /token is faulted: keys come straight from token-exchange.
        inbound: { issuers: sts.exchangingIssuers() },
      }),
      { clock: o.clock, timers: o.timers },
    );
    closers.push(() => t.app.shutdown());
    const vmcontroller = await startEchoUpstream();
    closers.push(() => vmcontroller.close());
    const app = await startEchoUpstream();
    closers.push(() => app.close());
    const envoys = await startGatewayEnvoys(
      checkPorts(t),
      { vmcontroller: vmcontroller.port, app: app.port },
      o.extAuthzTimeout,
    );
    closers.push(() => stopGatewayEnvoys(envoys));
    const sagaCall = (via: Transport = 'grpc') =>
      send(envoys[via].egress.port('egress'), {
        method: 'POST',
        path: '/v1/namespaces',
        host: 'vmcontroller',
        headers: { 'x-saga-id': 's-1' },
      });
    const userCall = async (via: Transport = 'grpc') =>
      send(envoys[via].ingress.port('ingress'), {
        path: '/v2/namespaces',
        headers: {
          authorization: `Bearer ${await sts.devAuth!.mint({ sub: 'cloud-teleport-aleksander.rykalin' })}`,
        },
      });
    return { sts, proxy, t, vmcontroller, envoys, sagaCall, userCall, close };
  } catch (err) {
    await close();
    throw err;
  }
}
