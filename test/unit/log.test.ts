import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../src/log.js';
import { ForgeIssuer } from '../helpers/jwt-forge.js';

const forge = await ForgeIssuer.create();
const TOKEN = forge.token();
const [, PAYLOAD, SIGNATURE] = TOKEN.split('.') as [string, string, string];
const PEM = forge.key.publicPem;
const PEM_BODY = PEM.split('\n')[1]!;

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  return { lines, logger: createLogger(level, (l) => lines.push(l)) };
}

function expectClean(lines: string[]): void {
  const text = lines.join('\n');
  for (const secret of [TOKEN, PAYLOAD, SIGNATURE, PEM_BODY]) expect(text).not.toContain(secret);
}

const deep = (levels: number, leaf: unknown): unknown =>
  levels === 0 ? leaf : { next: deep(levels - 1, leaf) };

describe('logger scrubbing', () => {
  it.each<[string, string, Record<string, unknown> | undefined]>([
    ['the message', `verify failed for ${TOKEN}`, undefined],
    ['a field', 'deny', { authorization: `Bearer ${TOKEN}` }],
    ['a field without the Bearer prefix', 'deny', { token: TOKEN }],
    ['an array element', 'deny', { tokens: ['x', TOKEN] }],
    ['an Error message', 'deny', { error: new Error(`bad token ${TOKEN}`) }],
    ['a member name', 'deny', { [TOKEN]: 1 }],
    ['a deeply nested field', 'deny', { nested: deep(8, TOKEN) }],
    ['a nested array of objects', 'deny', { list: [[{ a: [{ t: TOKEN }] }]] }],
    ['bytes', 'deny', { body: Buffer.from(TOKEN) }],
    ['a PEM block', 'loaded', { key: PEM }],
    ['a PEM block cut short', 'loaded', { key: PEM.slice(0, 80) }],
    ['a PEM block in an Error', 'x', { error: new Error(`cannot parse ${PEM}`) }],
  ])('never lets a JWT or PEM in %s reach the sink', (_name, msg, fields) => {
    const { lines, logger } = capture();
    logger.info(msg, fields);
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).not.toThrow();
    expectClean(lines);
  });

  it('scrubs the base fields of child loggers too', () => {
    const { lines, logger } = capture();
    logger.child({ caller: TOKEN }).warn('x', { other: 'ok' });
    expectClean(lines);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'x', other: 'ok' });
  });

  it('keeps ordinary values', () => {
    const { lines, logger } = capture();
    logger.info('deny', { reason: 'token_expired', path: '/v2/ns', count: 3, ok: false, n: null });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      msg: 'deny',
      reason: 'token_expired',
      path: '/v2/ns',
      count: 3,
      ok: false,
      n: null,
    });
  });

  it('never throws on values JSON cannot write (cycles, bigint)', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { token: TOKEN };
    cyclic.self = cyclic;
    expect(() => logger.error('cycle', { cyclic, big: 10n })).not.toThrow();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'cycle', big: '10' });
    expectClean(lines);
  });

  it('drops records below the level', () => {
    const { lines, logger } = capture('info');
    logger.debug('hidden');
    expect(logger.enabled('debug')).toBe(false);
    expect(logger.enabled('warn')).toBe(true);
    expect(lines).toEqual([]);
  });

  it('scrub() replaces the token, not the text around it', () => {
    expect(scrub(`a ${TOKEN} b`)).toBe('a [token] b');
  });
});
