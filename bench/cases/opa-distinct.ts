import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logTail, pinned, stopChild, unlessExited } from '../lib/child.js';
import { measure } from '../lib/measure.js';
import { BENCH_DIR, ROOT } from '../lib/paths.js';
import type { ServerUnderTest } from '../lib/servers.js';
import { measured, skipped, type BenchCase } from './case.js';

const BINARY = path.join(ROOT, '.tools', 'bin', 'opa-ext-authz');
const POLICY = path.join(BENCH_DIR, 'opa-ext-authz', 'policy.rego');

/** The OPA reference (bench/opa-ext-authz) on the bench issuer's JWKS, pinned like jwtexchange. */
async function startOpa(
  data: Record<string, unknown>,
  dataFile: string,
  logFile: string,
  cpus: string | undefined,
): Promise<ServerUnderTest> {
  writeFileSync(dataFile, JSON.stringify(data));
  const fd = openSync(logFile, 'w');
  const cmd = pinned(BINARY, ['-addr', '127.0.0.1:0', '-policy', POLICY, '-data', dataFile], cpus);
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  const port = new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const p = await unlessExited(child, 'opa-ext-authz', port).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(logFile)}`);
  });
  return {
    name: 'opa-distinct',
    address: `127.0.0.1:${p}`,
    logFile,
    pid: child.pid!,
    countsDecisions: false,
    stats: () => Promise.resolve({ ok: 0, denied: 0, samples: [] }),
    stop: () => stopChild(child),
  };
}

/**
 * The reference for `inbound-distinct`: OPA evaluating the same JWT verification (ES256 against
 * the same JWKS, iss, aud, exp; the subject as a header) on the same distinct tokens, converting
 * each CheckRequest to input as opa-envoy-plugin does, pinned to one core like jwtexchange.
 */
export const opaDistinctCase: BenchCase = {
  name: 'opa-distinct',
  summary:
    'reference: OPA (rego SDK, opa-envoy-plugin input) verifying the distinct tokens (h2-cycler)',
  async run(ctx) {
    if (!existsSync(BINARY)) {
      return skipped(this, 'the OPA reference is not built: run `scripts/setup-tools.sh opa-ref`');
    }
    const issuer = await ctx.fixtures.issuer();
    const bodies = await ctx.fixtures.distinctInbound(ctx.distinctTokens);
    const server = await startOpa(
      {
        jwks: readFileSync(issuer.jwksFile, 'utf8'),
        issuer: issuer.issuer,
        audience: 'gateway',
      },
      path.join(ctx.fixtures.workDir, 'opa-data.json'),
      path.join(ctx.resultsDir, 'opa-distinct.log'),
      ctx.cpus.server,
    );
    try {
      const m = await measure({
        server,
        generator: 'h2-cycler',
        bodies,
        expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
        settings: ctx.settings,
        scratchDir: ctx.resultsDir,
        generatorCpus: ctx.cpus.generator,
      });
      return measured(this, m, { distinctTokens: ctx.distinctTokens });
    } finally {
      await server.stop();
    }
  },
};
