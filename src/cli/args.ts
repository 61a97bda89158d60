import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs with strict checking and a --help flag; returns undefined after printing help. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  help: string,
  allowPositionals = false,
) {
  const parsed = parseArgs({
    args,
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals,
  });
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return undefined;
  }
  return parsed;
}
