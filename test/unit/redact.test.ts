import { generateKeyPairSync } from 'node:crypto';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { bounded, MAX_LOGGED_CHARS, originAndPath, scrub } from '../../src/redact.js';
import { ForgeIssuer } from '../helpers/jwt-forge.js';

const forge = await ForgeIssuer.create();
const TOKEN = forge.token();
const [, PAYLOAD, SIGNATURE] = TOKEN.split('.') as [string, string, string];
// A key made for this run (no key material lives in the repository): whole, and cut off.
const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString()
  .trimEnd();
const CUT_PEM = PEM.slice(0, PEM.indexOf('\n') + 21);

/**
 * Runs fn under a watchdog that interrupts it (regex backtracking included) after `ms`. The
 * inputs below cost minutes with a super-linear scrubber and milliseconds with a linear one, so
 * the bound is a complexity guard with a margin of thousands, not a performance assertion.
 */
function finishesUnder(ms: number, fn: () => unknown): boolean {
  try {
    vm.runInNewContext('fn()', { fn }, { timeout: ms });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return false;
    throw err;
  }
}

// Shapes that make backtracking scrubbers quadratic: token starts with no dot, PEM starts
// without an end, URL starts without an authority end. 600 000 characters each.
const HOSTILE: Record<string, string> = {
  'eyJ repeated (finding 1)': '/' + 'eyJ'.repeat(200_000),
  'eyJ runs cut by dots': 'eyJab.'.repeat(100_000),
  'PEM headers without an end': '-----BEGIN A-----'.repeat(35_000),
  'PEM headers without a label end': '-----BEGIN AAAA'.repeat(40_000),
  'URL starts': 'a://@'.repeat(120_000),
  'URL starts with queries': 'x://h?'.repeat(100_000),
};

describe('scrub is linear on hostile input', () => {
  it.each(Object.entries(HOSTILE))('%s: 600 KB scrubbed well inside the watchdog', (_n, input) => {
    expect(finishesUnder(10_000, () => scrub(input))).toBe(true);
  });

  it('a logger bounds a hostile 600 KB field before scrubbing it', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (l) => lines.push(l));
    const path = HOSTILE['eyJ repeated (finding 1)']!;
    expect(finishesUnder(10_000, () => logger.info('deny', { path }))).toBe(true);
    const logged = JSON.parse(lines[0]!).path as string;
    expect(logged.length).toBeLessThan(MAX_LOGGED_CHARS + 40);
    expect(logged).toMatch(/…\[\+\d+ chars\]$/);
  });
});

describe('scrub', () => {
  it.each([
    [`a ${TOKEN} b`, 'a [token] b'],
    [`Bearer ${TOKEN}`, 'Bearer [token]'],
    [`x${TOKEN}.`, 'x[token].'],
    [
      'eyJhbGciOiJFUzI1NiJ9 alone is a header, not a token',
      'eyJhbGciOiJFUzI1NiJ9 alone is a header, not a token',
    ],
    [`${PEM} after`, '[pem] after'],
    [CUT_PEM, '[pem]'],
    ['-----BEGIN x----- is no PEM', '-----BEGIN x----- is no PEM'],
    [
      'GET https://user:pw@jwks.example:8443/keys?sig=s3cret answered 500',
      'GET https://jwks.example:8443/keys answered 500',
    ],
    ['see "https://idp.example/jwks#frag"', 'see "https://idp.example/jwks"'],
    ['redis://:pw@10.0.0.1:6379', 'redis://10.0.0.1:6379'],
    ['spiffe://cluster.local/ns/a/sa/gateway', 'spiffe://cluster.local/ns/a/sa/gateway'],
    ['https://[::1]:8443/token', 'https://[::1]:8443/token'],
    ['plain text', 'plain text'],
  ])('%j → %j', (input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it('never lets a token embedded anywhere in any text through (generated)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const out = scrub(`${before} ${TOKEN}${after.startsWith('.') ? '' : ' '}${after}`);
        return !out.includes(PAYLOAD) && !out.includes(SIGNATURE);
      }),
    );
  });

  it('never lets URL credentials through (generated)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    fc.assert(
      fc.property(word, word, word, fc.string(), (user, pass, query, text) => {
        const out = scrub(`${text} https://${user}:${pass}@h.example/p?k=${query} ${text}`);
        return out.includes('https://h.example/p ') && !out.includes(`${user}:${pass}@`);
      }),
    );
  });
});

describe('bounded', () => {
  it('keeps short text and cuts long text with a marker', () => {
    expect(bounded('abc', 5)).toBe('abc');
    expect(bounded('abcdefgh', 5)).toBe('abcde…[+3 chars]');
  });
});

describe('originAndPath', () => {
  it.each([
    ['https://u:p@idp.example:8443/jwks?x=1#f', 'https://idp.example:8443/jwks'],
    ['http://127.0.0.1/', 'http://127.0.0.1/'],
    ['not a url', '(invalid URL)'],
  ])('%s → %s', (url, expected) => {
    expect(originAndPath(url)).toBe(expected);
  });
});
