import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../../src/cli/commands/token.js';

/**
 * `jwtexchange token` refuses unusable token sources before it contacts anyone (exit code 2);
 * test/integration/token-cli.test.ts covers files, standard input and the warning end to end.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-token-args-'));
const empty = path.join(dir, 'empty.jwt');
writeFileSync(empty, '\n');
const subjectFile = path.join(dir, 'subject.jwt');
writeFileSync(subjectFile, 'eyJx.eyJy.sig\n');
const base = [
  ...['--sts', 'https://127.0.0.1:1', '--cert', 'c', '--key', 'k', '--ca', 'ca'],
  ...['--audience', 'vmcontroller'],
];

afterEach(() => vi.restoreAllMocks());

describe('jwtexchange token: where the subject and actor tokens come from', () => {
  it.each<[string, string[], RegExp]>([
    [
      'an empty file',
      ['--subject-token-file', empty],
      /--subject-token-file: .*empty\.jwt is empty/,
    ],
    [
      'a file that does not exist',
      ['--subject-token-file', path.join(dir, 'missing.jwt')],
      /--subject-token-file: cannot read .*missing\.jwt/,
    ],
    ['both forms at once', ['--subject-token-file', empty, '--subject-token', 'x'], /not both/],
    [
      'two tokens on one standard input',
      ['--subject-token-file', '-', '--actor-token-file', '-'],
      /standard input can hold only one token/,
    ],
  ])('refuses %s with exit code 2', async (_name, args, message) => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(await run([...base, ...args])).toBe(2);
    expect(errors.join('\n')).toMatch(message);
  });

  it.each([
    { what: 'a subject token', args: ['--subject-token', 'eyJx.eyJy.sig'], warned: true },
    {
      what: 'an actor token',
      args: ['--subject-token-file', subjectFile, '--actor-token', 'eyJx.eyJy.sig'],
      warned: true,
    },
    {
      what: 'a saga id (no secret)',
      args: ['--subject-token', 'saga-1', '--subject-token-type', 'saga-id'],
      warned: false,
    },
  ])('given $what as an argument, warns that ps shows it: $warned', async ({ args, warned }) => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    // Fails later (there is no certificate file 'c'); the warning comes first.
    await run([...base, ...args]).catch(() => undefined);
    expect(errors.some((e) => e.includes('is deprecated'))).toBe(warned);
  });
});
