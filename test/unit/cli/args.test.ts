import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandArgs } from '../../../src/cli/args.js';

const OPTIONS = { config: { type: 'string', short: 'c' }, verbose: { type: 'boolean' } } as const;

describe('parseCommandArgs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('parses the declared options', () => {
    const parsed = parseCommandArgs(['-c', 'x.yaml', '--verbose'], OPTIONS, 'usage');
    expect(parsed?.values).toEqual({ config: 'x.yaml', verbose: true });
  });

  it.each([['--help'], ['-h']])('prints the help for %s and returns undefined', (flag) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(parseCommandArgs(['-c', 'x.yaml', flag], OPTIONS, 'usage: jwtexchange x')).toBe(
      undefined,
    );
    expect(log).toHaveBeenCalledWith('usage: jwtexchange x');
  });

  it.each([[['--nope']], [['--config']], [['--verbose=yes']]])('refuses %o', (args) => {
    expect(() => parseCommandArgs(args, OPTIONS, 'usage')).toThrow();
  });

  it('takes positionals only when allowed', () => {
    expect(() => parseCommandArgs(['file.yaml'], OPTIONS, 'usage')).toThrow();
    expect(parseCommandArgs(['file.yaml'], OPTIONS, 'usage', true)?.positionals).toEqual([
      'file.yaml',
    ]);
  });
});
