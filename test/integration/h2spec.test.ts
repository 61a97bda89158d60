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
 * knowledge), every case including the strict ones, and every case must pass. h2spec's requests
 * are not gRPC, so the listener answers them 415 with a short body — which lets the cases that
 * need a response body (flow control of what we send) run too.
 */
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const ALLOW: CheckResponse = { status: { code: 0 } };

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

/** Each case that did not pass, in a line that says what h2spec saw. */
function unexpected(cases: readonly CaseResult[]): string[] {
  return cases
    .filter((c) => c.outcome !== 'passed')
    .map((c) => `${c.id} ${c.outcome}: ${c.title}` + (c.message ? ` — ${c.message}` : ''));
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

  it('passes every HTTP/2 conformance case, the strict ones included', async () => {
    const report = path.join(dir, 'h2spec.xml');
    const run = await runH2spec(grpc.port, report);
    const output = `exit ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr}`;
    expect(existsSync(report), `h2spec wrote no report:\n${output}`).toBe(true);
    const cases = parseJunit(readFileSync(report, 'utf8').replaceAll('\0', ''));
    // A run that stopped early (or a report we misread) must not pass as "nothing failed".
    expect(cases.length, output).toBeGreaterThanOrEqual(146);
    expect(unexpected(cases), 'h2spec cases that did not pass').toEqual([]);
    expect(run.code, output).toBe(0);
    expect(run.leftBehind).toEqual([]);
  });
});
