import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A binary installed by scripts/setup-tools.sh into .tools/bin. */
export function tool(name: 'envoy' | 'spicedb' | 'helm' | 'promtool' | 'h2load'): string {
  const p = path.join(ROOT, '.tools', 'bin', name);
  if (!existsSync(p)) {
    throw new Error(
      `${name} is not installed: run \`npm run setup\` (scripts/setup-tools.sh ${name})`,
    );
  }
  return p;
}
