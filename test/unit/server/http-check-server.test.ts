import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  createCheckRunner,
  type CheckCall,
  type CheckReply,
  type CheckRunner,
} from '../../../src/check/check-runner.js';
import { allow, deny } from '../../../src/check/decision.js';
import { InFlight } from '../../../src/check/in-flight.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { toCheckResponse } from '../../../src/check/response.js';
import { ROUTE_HEADER } from '../../../src/envoy/http-check-request.js';
import { HEADERS_TO_REMOVE } from '../../../src/envoy/http-check-response.js';
import type { CheckRequest, CheckResponse } from '../../../src/envoy/types.js';
import { createLogger } from '../../../src/log.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';
import { checkBudgetMs, createHttpCheckServer } from '../../../src/server/http-check-server.js';
import { ROOT } from '../../helpers/tools.js';

type Runner = CheckRunner;

interface Started {
  readonly port: number;
  readonly server: http.Server;
  /** Every check the runner was handed, with the request it read. */
  readonly calls: { call: CheckCall; request: CheckRequest }[];
  readonly logs: string[];
  /** TCP connections the server accepted. */
  connections(): number;
}

const servers: http.Server[] = [];
const agents: http.Agent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * The listener on a real loopback port (port 0) around a fake runner: `answer` gives the
 * CheckResponse for the request the runner read (or a promise of it, to answer later).
 */
async function start(
  answer: (req: CheckRequest) => CheckResponse | Promise<CheckResponse>,
  timeoutMs = 1_000,
): Promise<Started> {
  const calls: Started['calls'] = [];
  const run: Runner = (call: CheckCall, reply: CheckReply) => {
    const request = typeof call.request === 'function' ? call.request() : call.request;
    calls.push({ call, request });
    const res = answer(request);
    if (res instanceof Promise) void res.then((r) => reply(r, undefined));
    else reply(res, undefined);
  };
  return listen(run, calls, timeoutMs);
}

async function listen(run: Runner, calls: Started['calls'], timeoutMs: number): Promise<Started> {
  const logs: string[] = [];
  const logger = createLogger('debug', (l) => logs.push(l));
  const server = createHttpCheckServer(run, { timeoutMs, logger });
  servers.push(server);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, server, calls, logs, connections: () => connections };
}

const ok = (headers: [string, string][] = [], remove: string[] = []) =>
  toCheckResponse(allow('allowed', headers, remove), undefined);
const denied = (reason: Parameters<typeof deny>[0]) =>
  toCheckResponse(
    deny(reason, 'log only'),
    toRequestContext({ attributes: { request: { http: {} } } }),
  );

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  port: number,
  options: http.RequestOptions & { body?: string | Buffer } = {},
  agent?: http.Agent,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/', ...options, ...(agent ? { agent } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

/** Writes raw bytes; resolves with everything received once the server closes the socket. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    socket.on('close', () => resolve(got));
  });
}

describe('checkBudgetMs', () => {
  it.each([
    ['5000', 5_000],
    ['1', 1],
    ['60000', 60_000],
    ['600000', 60_000],
    ['0', 1_000],
    ['-5', 1_000],
    ['1.5', 1_000],
    ['5000ms', 1_000],
    [' 5000', 1_000],
    ['9'.repeat(10), 1_000],
    ['', 1_000],
    [undefined, 1_000],
    [['5000', '6000'], 1_000],
  ])('Envoy header %j → %d ms', (header, ms) => {
    expect(checkBudgetMs(header, 1_000)).toBe(ms);
  });
});

describe('the HTTP check listener', () => {
  it("takes Envoy's deadline from x-envoy-expected-rq-timeout-ms, else server.httpCheckTimeoutMs", async () => {
    const s = await start(() => ok([['x-jwtauth-subject', 'alice']], []), 1_000);
    const before = Date.now();
    const headers = { host: 'gateway', authorization: 'Bearer a.b.c' };
    await request(s.port, {
      method: 'GET',
      path: '/',
      headers: { ...headers, 'x-envoy-expected-rq-timeout-ms': '5000' },
    });
    await request(s.port, { method: 'GET', path: '/', headers });
    const [withHeader, without] = s.calls.map((c) => c.call.answerBy!);
    // Due ~10% before the budget (check/deadline.ts): past 4 s with Envoy's 5 s, under 1 s without.
    expect(withHeader).toBeGreaterThan(before + 4_000);
    expect(withHeader).toBeLessThan(Date.now() + 5_000);
    expect(without).toBeLessThan(Date.now() + 1_000);
  });

  it('hands the runner the request as a CheckRequest and answers an allow with 200 and the headers', async () => {
    const s = await start(() => ok([['x-jwtauth-subject', 'alice']], ['x-jwtauth-role']));
    const before = Date.now();
    const res = await request(s.port, {
      method: 'POST',
      path: '/v2/namespaces?dry=1',
      headers: {
        host: 'gateway',
        authorization: 'Bearer a.b.c',
        [ROUTE_HEADER]: 'jwtexchange.direction=inbound',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-jwtauth-subject']).toBe('alice');
    expect(res.headers[HEADERS_TO_REMOVE]).toBe(`x-jwtauth-role,${ROUTE_HEADER}`);
    expect(res.headers['content-length']).toBe('0');
    expect(res.body).toBe('');
    expect(s.calls).toHaveLength(1);
    const { call, request: req } = s.calls[0]!;
    expect(call.explain).toBe(false);
    // No Envoy deadline: due a little before server.httpCheckTimeoutMs from now (deadline.ts).
    expect(call.answerBy).toBeGreaterThan(before);
    expect(call.answerBy).toBeLessThan(Date.now() + 1_000);
    const http = req.attributes!.request!.http!;
    expect(http).toMatchObject({ method: 'POST', path: '/v2/namespaces?dry=1', host: 'gateway' });
    expect(http.headers!.authorization).toBe('Bearer a.b.c');
    expect(req.attributes!.context_extensions).toEqual({ 'jwtexchange.direction': 'inbound' });
  });

  it('answers a denial with its status, headers and body, and the content-length of the body', async () => {
    const s = await start(() => denied('missing_token'));
    const res = await request(s.port);
    expect(res.status).toBe(401);
    expect(res.headers['x-jwtauth-reason']).toBe('missing_token');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="jwtexchange"');
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toMatchObject({ error: 'missing_token' });
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
  });

  it('answers check after check on one kept-alive connection, answered later or at once', async () => {
    let n = 0;
    const s = await start(() => {
      n++;
      if (n % 3 === 0) return denied('invalid_signature');
      return n % 2 === 0 ? new Promise((r) => setImmediate(() => r(ok()))) : ok();
    });
    const agent = keepAliveAgent();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(s.port, {}, agent)).status);
    expect(statuses).toEqual([200, 200, 401, 200, 200, 401]);
    expect(s.connections()).toBe(1);
  });

  it('reads a body up to 64 KiB past the check (the connection stays usable)', async () => {
    const s = await start(() => ok());
    const agent = keepAliveAgent();
    const body = Buffer.alloc(64 * 1024, 'a');
    expect((await request(s.port, { method: 'POST', body }, agent)).status).toBe(200);
    expect((await request(s.port, { method: 'POST', body: 'x' }, agent)).status).toBe(200);
    expect(s.connections()).toBe(1);
  });

  it('refuses a body over 64 KiB with 413 and closes the connection, without a check', async () => {
    const s = await start(() => ok());
    const res = await request(s.port, { method: 'POST', body: Buffer.alloc(64 * 1024 + 1, 'a') });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(s.calls).toHaveLength(0);
    // Not even announced bodies that large are waited for.
    const text = await raw(
      s.port,
      'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(s.calls).toHaveLength(0);
  });

  it.each([
    ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: 127.0.0.1:22\r\n\r\n'],
    [
      'an Upgrade',
      'GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    ],
  ])('closes the socket of %s request without a check or an answer', async (_name, text) => {
    const s = await start(() => ok());
    expect(await raw(s.port, text)).toBe('');
    expect(s.calls).toHaveLength(0);
  });

  it('accepts headers up to Envoy’s 60 KiB limit and hands them over intact', async () => {
    const s = await start(() => ok());
    const big = 'v'.repeat(60 * 1024);
    const res = await request(s.port, { headers: { 'x-big': big, authorization: 'Bearer t' } });
    expect(res.status).toBe(200);
    expect(s.calls[0]!.request.attributes!.request!.http!.headers!['x-big']).toBe(big);
  });

  it('answers 500 (an ext_authz error, which Envoy denies) when Node refuses a header value, and logs no value', async () => {
    const secret = 'Bearer eyJhbGciOi.secret-value';
    let bad = true;
    const s = await start(() =>
      bad ? ok([['authorization', `${secret}\nx-injected: 1`]]) : ok([['x-jwtauth-subject', 'a']]),
    );
    const agent = keepAliveAgent();
    const res = await request(s.port, {}, agent);
    expect(res.status).toBe(500);
    expect(res.headers.authorization).toBeUndefined();
    expect(res.headers['x-injected']).toBeUndefined();
    expect(res.body).toBe('');
    const errors = s.logs.filter((l) => JSON.parse(l).level === 'error');
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!).msg).toBe('check answer could not be written; denying');
    expect(s.logs.join('\n')).not.toContain('secret-value');
    // The listener goes on answering.
    bad = false;
    expect((await request(s.port, {}, agent)).status).toBe(200);
  });

  it('keeps idle connections longer than the shipped Envoy configs’ idle_timeout (Envoy closes first)', async () => {
    const s = await start(() => ok());
    const configs = ['ingress-http.yaml', 'egress-http.yaml'];
    for (const file of configs) {
      const config = parse(readFileSync(path.join(ROOT, 'envoy', file), 'utf8'));
      const cluster = config.static_resources.clusters.find(
        (c: { name: string }) => c.name === 'jwtexchange',
      );
      const options =
        cluster.typed_extension_protocol_options[
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
        ];
      const idle = String(options.common_http_protocol_options.idle_timeout);
      expect(idle, file).toMatch(/^\d+s$/);
      expect(s.server.keepAliveTimeout, file).toBeGreaterThan(Number(idle.slice(0, -1)) * 1_000);
    }
  });
});

describe('the HTTP check listener with the real check runner', () => {
  async function startReal(
    inbound: () => ReturnType<typeof allow> | Promise<ReturnType<typeof allow>>,
  ) {
    const logs: string[] = [];
    const inFlight = new InFlight();
    const run = createCheckRunner(
      {
        inbound: () => inbound(),
        outbound: () => allow('passthrough'),
        metrics: new SidecarMetrics(),
        logger: createLogger('info', (l) => logs.push(l)),
      },
      inFlight,
    );
    const s = await listen(run, [], 1_000);
    return { ...s, inFlight };
  }

  it('denies a repeated route header with 400 bad_request, never a pass', async () => {
    let checked = 0;
    const s = await startReal(() => (checked++, allow('allowed')));
    const text = await raw(
      s.port,
      `GET / HTTP/1.1\r\nhost: x\r\n${ROUTE_HEADER}: jwtexchange.exempt=true\r\n` +
        `${ROUTE_HEADER}: jwtexchange.exempt=true\r\nconnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/\r\nx-jwtauth-reason: bad_request\r\n/i);
    expect(checked).toBe(0);
    expect(s.inFlight.size).toBe(0);
  });

  it('routes on the route header: outbound goes to the outbound check', async () => {
    const s = await startReal(() => deny('missing_token', 'x') as ReturnType<typeof allow>);
    const outbound = await request(s.port, {
      headers: { [ROUTE_HEADER]: 'jwtexchange.direction=outbound' },
    });
    expect(outbound.status).toBe(200);
    expect((await request(s.port)).status).toBe(401);
    const bad = await request(s.port, {
      headers: { [ROUTE_HEADER]: 'jwtexchange.direction=sideways' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['x-jwtauth-reason']).toBe('bad_request');
  });
});
