import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Where the binaries live: .tools/bin (filled by scripts/setup-tools.sh), or the folder named by
 * JWTEXCHANGE_TOOLS_DIR (tests point it at an empty folder to see what happens without tools).
 */
export function toolsDir(): string {
  return process.env.JWTEXCHANGE_TOOLS_DIR || path.join(ROOT, '.tools', 'bin');
}

/** A binary installed by scripts/setup-tools.sh into .tools/bin. */
export function tool(
  name: 'envoy' | 'spicedb' | 'helm' | 'promtool' | 'h2spec' | 'h2load' | 'node-image' | 'jemalloc',
): string {
  const p = path.join(toolsDir(), name);
  if (!existsSync(p)) {
    const where = process.env.JWTEXCHANGE_TOOLS_DIR
      ? ` in ${toolsDir()} (JWTEXCHANGE_TOOLS_DIR)`
      : '';
    throw new Error(
      `${name} is not installed${where}: run \`npm run setup\` (scripts/setup-tools.sh ${name})`,
    );
  }
  return p;
}
