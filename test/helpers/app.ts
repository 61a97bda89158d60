import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import type { Clock, Timers } from '../../src/clock.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { registerSecret, registerToken, testLogger } from './run-logs.js';

export interface TestApp {
  readonly app: RunningApp;
  readonly issuer: DevIssuer;
  readonly grpcAddress: string;
  readonly dir: string;
  readonly logs: string[];
}

type Doc = Record<string, unknown>;

export interface TestAppOptions {
  /** Injected time for the server (expiry, refresh, backoff, JWKS cooldown). */
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Wait until every readiness gate is ready (default true). */
  readonly waitReady?: boolean;
}

/**
 * Starts the real server in-process on ephemeral ports, trusting a freshly generated dev issuer
 * (audience `gateway`). `overrides` is merged into the config document section by section.
 */
export async function startTestApp(
  overrides: (issuer: DevIssuer, dir: string) => Doc = () => ({}),
  options: TestAppOptions = {},
): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-app-'));
  const issuer = recorded(await ensureDevIssuer(dir), dir);
  const extra = overrides(issuer, dir);
  const inbound = (extra.inbound ?? {}) as Doc;
  const doc: Doc = {
    ...extra,
    server: {
      grpcAddress: '127.0.0.1:0',
      httpAddress: '127.0.0.1:0',
      shutdownGraceMs: 2000,
      ...(extra.server as Doc),
    },
    inbound: {
      issuers: [
        {
          issuer: issuer.issuer,
          jwksFile: issuer.jwksFile,
          audiences: ['gateway'],
          algorithms: ['ES256'],
        },
      ],
      ...inbound,
    },
  };
  const config = parseConfig(doc, dir);
  const logs: string[] = [];
  const app = await startApp(config, {
    logger: testLogger('app', logs),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  if (options.waitReady ?? true) await app.whenReady(60_000);
  return { app, issuer, grpcAddress: `127.0.0.1:${app.grpcPort}`, dir, logs };
}

/** The dev issuer with its private key and every token it mints recorded for the leak check. */
function recorded(issuer: DevIssuer, dir: string): DevIssuer {
  const jwk = JSON.parse(readFileSync(path.join(dir, 'dev-issuer-key.json'), 'utf8')) as {
    d: string;
  };
  registerSecret('run', 'dev issuer private key', jwk.d);
  return {
    ...issuer,
    async mint(claims) {
      const token = await issuer.mint(claims);
      registerToken('token minted by the test dev issuer', token);
      return token;
    },
  };
}
