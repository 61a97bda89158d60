import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckRequest, CheckResponse } from '../../src/envoy/types.js';
import type { Call, UnaryCallback } from '../../src/grpc/calls.js';
import { setServing, startGrpcServer, type GrpcServer } from '../../src/server/grpc-server.js';
import { finished } from '../helpers/processes.js';
import { captureChildOutput } from '../helpers/run-logs.js';
import { tool } from '../helpers/tools.js';

/**
 * The ext_authz listener against an independent HTTP/2 conformance suite: h2spec (h2c, prior
 * knowledge), every case including the strict ones. h2spec's requests are not gRPC, so the
 * listener answers them 415 (HEADERS with END_STREAM, no body): a valid response, and the reason
 * for some of the entries below.
 *
 * Every case must pass, except those listed here with the outcome they have today and why. A
 * listed case that passes fails the test too (but for the races, which may go either way), so
 * the lists only ever shrink.
 */
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const ALLOW: CheckResponse = { status: { code: 0 } };

const NO_BODY = 'waits for a DATA frame; our 415 answer to a non-gRPC request has no body';
const KNOWN_FAILURES: Record<string, string> = {
  'generic/2/2': NO_BODY,
  'generic/2/3': NO_BODY,
  'http2/5.1/8':
    'node:http2 ignores DATA after the peer’s RST_STREAM (RFC 9113 5.1: STREAM_CLOSED)',
  'http2/5.1/9': 'node:http2 ignores HEADERS after the peer’s RST_STREAM (5.1: STREAM_CLOSED)',
  'http2/5.1/11': 'node:http2 ignores DATA on a closed stream (5.1: STREAM_CLOSED)',
  'http2/5.1/12':
    'node:http2 ignores HEADERS on a closed stream (5.1: connection error STREAM_CLOSED)',
  'http2/5.1.1/2':
    'node:http2 ignores HEADERS on a stream id below one already used (5.1.1: GOAWAY PROTOCOL_ERROR)',
  'http2/6.7/2':
    'node:http2 closes the connection (GOAWAY INTERNAL_ERROR) on a PING ACK it did not ask for (6.7: ignore it)',
  'http2/6.9.1/2':
    'node:http2 answers a connection window past 2^31-1 with GOAWAY INTERNAL_ERROR, not FLOW_CONTROL_ERROR',
};
/**
 * Pass or fail by timing: h2spec sends a frame on a stream it half-closed, and node:http2 answers
 * with STREAM_CLOSED only if the 415 has not already closed the stream (then it ignores the
 * frame, as in 5.1/11 and 5.1/12). Seen failing with the machine under load.
 */
const CLOSED_FIRST = 'fails when our 415 closes the stream before the frame arrives (see above)';
const KNOWN_RACES: Record<string, string> = {
  'http2/5.1/5': CLOSED_FIRST,
  'http2/5.1/6': CLOSED_FIRST,
};
const NEEDS_BODY = 'h2spec skips it: needs a response with a body, our 415 has none';
const KNOWN_SKIPS: Record<string, string> = {
  'http2/5.1.2/1': 'h2spec skips it: the listener advertises no SETTINGS_MAX_CONCURRENT_STREAMS',
  'http2/6.5.3/1': NEEDS_BODY,
  'http2/6.9.1/1': NEEDS_BODY,
  'http2/6.9.2/1': NEEDS_BODY,
  'http2/6.9.2/2': NEEDS_BODY,
};

type Outcome = 'passed' | 'failed' | 'skipped';
interface CaseResult {
  /** h2spec's id of the case (what `h2spec <id>` runs): section/number within the section. */
  readonly id: string;
  readonly title: string;
  readonly outcome: Outcome;
  readonly message: string;
}

const ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
};
const unescapeXml = (s: string) => s.replace(/&(?:lt|gt|quot|#39|amp);/g, (e) => ENTITIES[e]!);
const attribute = (tag: string, name: string) =>
  unescapeXml(tag.split(`${name}="`)[1]?.split('"')[0] ?? '');

/** h2spec's failure text: the frames it expected, one a line, then what it got (or an error). */
function failureMessage(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.trim());
  const got = lines.pop();
  return lines.length > 0 ? `expected ${lines.join(' or ')}; got ${got}` : `${got}`;
}

/** h2spec's JUnit report: one <testcase package= classname=> per case, failures as <error>. */
function parseJunit(xml: string): CaseResult[] {
  const numbers = new Map<string, number>();
  return xml
    .split('<testcase ')
    .slice(1)
    .map((chunk) => {
      const tag = chunk.slice(0, chunk.indexOf('>'));
      const body = chunk.slice(tag.length + 1, chunk.indexOf('</testcase>'));
      const section = attribute(tag, 'package');
      const n = (numbers.get(section) ?? 0) + 1;
      numbers.set(section, n);
      const failure = /<(?:error|failure)[^>]*>([^<]*)</.exec(body);
      const outcome: Outcome = failure
        ? 'failed'
        : body.includes('<skipped')
          ? 'skipped'
          : 'passed';
      return {
        id: `${section}/${n}`,
        title: attribute(tag, 'classname'),
        outcome,
        message: failure ? failureMessage(unescapeXml(failure[1]!)) : '',
      };
    });
}

const expectedOutcome = (id: string): Outcome =>
  id in KNOWN_FAILURES ? 'failed' : id in KNOWN_SKIPS ? 'skipped' : 'passed';
const asExpected = (c: CaseResult) =>
  c.outcome === expectedOutcome(c.id) || (c.id in KNOWN_RACES && c.outcome === 'failed');

/** Each case whose outcome is not the expected one, in a line that says what h2spec saw. */
function unexpected(cases: readonly CaseResult[]): string[] {
  const lines = cases
    .filter((c) => !asExpected(c))
    .map(
      (c) =>
        `${c.id} ${c.outcome}, expected ${expectedOutcome(c.id)}: ${c.title}` +
        (c.message ? ` — ${c.message}` : ''),
    );
  const seen = new Set(cases.map((c) => c.id));
  for (const id of [KNOWN_FAILURES, KNOWN_SKIPS, KNOWN_RACES].flatMap(Object.keys)) {
    if (!seen.has(id)) lines.push(`${id} is listed but h2spec did not report it`);
  }
  return lines;
}

async function runH2spec(port: number, report: string) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-P', CHECK_PATH, '--strict'];
  // -o: seconds h2spec waits for an expected frame (its default); cases that see nothing wait it.
  const child = spawn(tool('h2spec'), [...args, '-o', '2', '-j', report], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  captureChildOutput(child, 'h2spec');
  return finished(child);
}

describe('the ext_authz listener under h2spec', () => {
  let grpc: GrpcServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'h2spec-'));
    grpc = await startGrpcServer(
      '127.0.0.1:0',
      (_call: Call<CheckRequest>, done: UnaryCallback<CheckResponse>) => done(null, ALLOW),
    );
    setServing(grpc.health, true);
  });

  afterAll(() => {
    grpc?.server.forceShutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes every HTTP/2 conformance case but the listed ones', async () => {
    const report = path.join(dir, 'h2spec.xml');
    const run = await runH2spec(grpc.port, report);
    const output = `exit ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr}`;
    expect(existsSync(report), `h2spec wrote no report:\n${output}`).toBe(true);
    const cases = parseJunit(readFileSync(report, 'utf8').replaceAll('\0', ''));
    // A run that stopped early (or a report we misread) must not pass as "nothing failed".
    expect(cases.length, output).toBeGreaterThanOrEqual(140);
    expect(unexpected(cases), 'h2spec cases with another outcome than listed').toEqual([]);
    expect(run.code, output).toBe(Object.keys(KNOWN_FAILURES).length > 0 ? 1 : 0);
    expect(run.leftBehind).toEqual([]);
  });
});
