/**
 * `jwtexchange <command>`: each command lives in commands/<name>.ts and is loaded on demand, so
 * `jwtexchange check` does not pay for the server's imports.
 */
import { ConfigError } from '../errors.js';

type Command = { run(args: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./commands/serve.js'),
  config: () => import('./commands/config.js'),
  dev: () => import('./commands/dev.js'),
  check: () => import('./commands/check.js'),
  'dev-token': () => import('./commands/dev-token.js'),
  sts: () => import('./commands/sts.js'),
  token: () => import('./commands/token.js'),
  pki: () => import('./commands/pki.js'),
  'dev-auth': () => import('./commands/dev-auth.js'),
};

async function usage(): Promise<string> {
  const lines = ['usage: jwtexchange <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(12)} ${(await load()).summary}`);
  }
  lines.push('', 'Run `jwtexchange <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${await usage()}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    const hint = err instanceof ConfigError ? CONFIG_HINTS[name] : undefined;
    console.error(`jwtexchange ${name}: ${(err as Error).message}${hint ? `\n${hint}` : ''}`);
    // A flag the command does not know, or one missing its value: a usage error.
    if (String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`Run \`jwtexchange ${name} --help\` for its options.`);
      return 2;
    }
    return 1;
  }
}

/** Where an operator finds every setting, after a configuration error. */
const CONFIG_HINTS: Record<string, string> = {
  serve:
    'Check a file with `jwtexchange config check FILE`; docs/configuration.md describes every setting.',
  sts: 'Check a file with `jwtexchange config check --sts FILE`; docs/token-exchange.md describes every setting.',
};
