import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DevAuth } from '../../src/dev/dev-auth.js';
import { Latencies } from './open-loop.js';
import { OUTSIDER, USERS } from './platform.js';

interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1_024 });

function post(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers, timeout: 10_000 },
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
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (err) => resolve({ status: 0, reason: err.message, body: '' }));
    req.end('{}');
  });
}

/** What the run saw; an unexpected answer is anything but the one right answer for the request. */
export class Tally {
  readonly latency = new Latencies();
  readonly counts = { user: 0, outsider: 0, saga: 0 };
  unexpected = 0;
  readonly examples: string[] = [];
  /** When each unexpected answer came (epoch ms), to line them up with the process samples. */
  readonly unexpectedAt: number[] = [];

  record(kind: keyof Tally['counts'], dueAt: number, answer: Answer, right: boolean): void {
    this.latency.add(performance.now() - dueAt);
    this.counts[kind]++;
    if (right) return;
    this.unexpected++;
    this.unexpectedAt.push(Date.now());
    if (this.examples.length < 10) {
      this.examples.push(
        `${new Date().toISOString()} ${kind}: HTTP ${answer.status} ${answer.reason ?? ''} ${answer.body.slice(0, 160)}`,
      );
    }
  }

  get total(): number {
    return this.counts.user + this.counts.outsider + this.counts.saga;
  }
}

const parse = (body: string): { sub?: unknown; saga?: unknown } => {
  try {
    return JSON.parse(body) as { sub?: unknown; saga?: unknown };
  } catch {
    return {};
  }
};

/**
 * A user's CreateNamespace with a token never used before: a member of cl0 must get 200 with its
 * own identity at the app; one request in ten is from a user without create_saga, who must get
 * 403 permission_denied.
 */
export async function userRequest(
  i: number,
  dueAt: number,
  o: { port: number; auth: DevAuth; tally: Tally },
): Promise<void> {
  const outsider = i % 10 === 9;
  const sub = outsider ? OUTSIDER : USERS[i % USERS.length]!;
  const token = await o.auth.mint({ sub, aud: 'gateway', ttlSeconds: 600 });
  const answer = await post(o.port, '/v2/namespaces/cl0', { authorization: `Bearer ${token}` });
  const right = outsider
    ? answer.status === 403 && answer.reason === 'permission_denied'
    : answer.status === 200 && parse(answer.body).sub === sub;
  o.tally.record(outsider ? 'outsider' : 'user', dueAt, answer, right);
}

/** A saga's call: must reach vmcontroller as the gateway service, verified by its sidecar. */
export async function sagaRequest(
  i: number,
  dueAt: number,
  o: { port: number; tally: Tally },
): Promise<void> {
  const saga = `saga-${i}`;
  const answer = await post(o.port, '/v1/namespaces', { host: 'vmcontroller', 'x-saga-id': saga });
  const seen = parse(answer.body);
  o.tally.record(
    'saga',
    dueAt,
    answer,
    answer.status === 200 && seen.sub === 'gateway' && seen.saga === saga,
  );
}

export function closeClients(): void {
  agent.destroy();
}
