import http from 'node:http';
import type { HttpCheckRequest } from './http-check-request.js';
import type { Expectation } from './sample.js';

/** One check over HTTP/1.1, sent exactly as given (Host: the listener's address). */
function send(
  address: string,
  r: HttpCheckRequest,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: address.slice(0, at),
        port: Number(address.slice(at + 1)),
        method: r.method,
        path: r.path,
        headers: { host: address, ...r.headers },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * The HTTP listener's counterpart of checkSample (sample.ts): sends up to `count` of the requests
 * one by one and reads each answer — 200 for an allow, 4xx for a denial — and, on an allow, the
 * identity headers it must set, so a case fails loudly before measuring a wrong answer.
 */
export async function checkHttpSample(
  address: string,
  requests: readonly HttpCheckRequest[],
  expect: Expectation,
  count = 8,
): Promise<string[]> {
  const problems: string[] = [];
  for (const r of requests.slice(0, count)) {
    let answer;
    try {
      answer = await send(address, r);
    } catch (err) {
      problems.push(`sample: the request failed (${(err as Error).message})`);
      continue;
    }
    const allowed = answer.status === 200;
    const denied = answer.status >= 400 && answer.status < 500;
    if (expect.ok ? !allowed : !denied) {
      problems.push(`sample: expected ${expect.ok ? '200' : 'a denial'}, got ${answer.status}`);
      continue;
    }
    for (const name of allowed ? (expect.setsHeaders ?? []) : []) {
      if (answer.headers[name] === undefined)
        problems.push(`sample: the allow does not set ${name}`);
    }
  }
  return [...new Set(problems)];
}
