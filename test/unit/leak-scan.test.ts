import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { findSecrets, scanRunLogs } from '../helpers/leak-scan.js';
import { ForgeIssuer } from '../helpers/jwt-forge.js';
import { PLANTED, RUN_LOG_DIR_ENV, runLogDir, type Secret } from '../helpers/run-logs.js';

/**
 * The end-of-run leak check (test/global-setup.ts) must be able to fail: these tests plant
 * secrets in a scratch log folder and expect the scanner to find each one.
 */
const forge = await ForgeIssuer.create();
const token = forge.token();
const signature = token.split('.')[2]!;

describe('the run log folder', () => {
  it('is set for every test process by the global setup', () => {
    expect(process.env[RUN_LOG_DIR_ENV]).toBeTruthy();
    expect(runLogDir()).toBe(process.env[RUN_LOG_DIR_ENV]);
  });

  it('records forged tokens for the check', () => {
    const folder = path.join(runLogDir()!, 'secrets', `${process.pid}.jsonl`);
    const recorded = readFileSync(folder, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Secret);
    expect(recorded).toContainEqual({ kind: 'run', what: 'forged ES256 token', value: signature });
  });
});

describe('findSecrets', () => {
  const secrets: Secret[] = [
    { kind: 'run', what: 'token', value: signature },
    { kind: 'text', what: 'password', value: PLANTED.urlPassword },
  ];

  it.each([
    ['a whole token', `{"msg":"deny","token":"${token}"}`, ['token']],
    ['a bearer header', `authorization: Bearer ${token}\n`, ['token']],
    ['a URL with userinfo', `GET http://u:${PLANTED.urlPassword}@h/jwks`, ['password']],
    ['both', `${token} ${PLANTED.urlPassword}`, ['token', 'password']],
    ['a scrubbed token', `{"token":"[token]"}`, []],
    ['part of a longer run (not this token)', `x${signature}y`, []],
  ])('finds %s', (_name, text, expected) => {
    expect(findSecrets(text, secrets).map((s) => s.what)).toEqual(expected);
  });
});

describe('scanRunLogs', () => {
  it('reports the file and line of each leak, and nothing for clean logs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-leak-scan-'));
    writeFileSync(path.join(dir, 'clean.log'), '{"msg":"ok"}\n');
    writeFileSync(path.join(dir, 'leaky.log'), `first\nsecond ${PLANTED.urlQuerySecret}\n`);
    const result = scanRunLogs(dir);
    expect(result.files).toBe(2);
    expect(result.leaks).toEqual([{ file: 'leaky.log', line: 2, what: 'planted urlQuerySecret' }]);
  });

  it('finds a recorded token a logger wrote unscrubbed, and not the scrubbed one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-leak-scan-'));
    mkdirSync(path.join(dir, 'secrets'));
    const secret: Secret = { kind: 'run', what: 'minted token', value: signature };
    writeFileSync(path.join(dir, 'secrets', '1.jsonl'), JSON.stringify(secret) + '\n');
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l)).info('deny', { token });
    // A raw JSON line stands for a logger that forgot to scrub.
    lines.push(JSON.stringify({ msg: 'deny', token }));
    writeFileSync(path.join(dir, 'app.log'), lines.join('\n'));
    expect(scanRunLogs(dir).leaks).toEqual([{ file: 'app.log', line: 2, what: 'minted token' }]);
  });
});
