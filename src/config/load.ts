import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type * as z from 'zod';
import { ConfigError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** Formats a zod path as `inbound.issuers[0].jwksUri`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`))
    .join('');
}

function toProblems(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
    return { path: formatPath(issue.path), message };
  });
}

/** Validates an already-parsed document. Relative paths resolve against baseDir. */
export function parseConfig(document: unknown, baseDir = process.cwd()): Config {
  const result = configSchema({ baseDir }).safeParse(document ?? {});
  if (!result.success) throw new ConfigError(toProblems(result.error));
  return result.data;
}

/** One YAML document, parsed strictly (duplicate keys refused, aliases bounded). */
export function parseYamlText(text: string, name: string): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError([{ path: '', message: `${name} is not valid YAML: ${message}` }]);
  }
}

/** The one YAML file loader (sidecar and token-exchange): read, then parseYamlText. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { path: '', message: `cannot read ${file}: ${(err as Error).message}` },
    ]);
  }
  return parseYamlText(text, file);
}

/** Reads, parses and validates a YAML config file. Throws ConfigError naming key and problem. */
export function loadConfigFile(file: string): Config {
  return parseConfig(readYamlFile(file), path.dirname(path.resolve(file)));
}
