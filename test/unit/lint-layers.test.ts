import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

/** The no-restricted-imports messages eslint.config.js gives this import in this file. */
async function refused(filePath: string, spec: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import '${spec}';\n`, { filePath });
  return result!.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

// [file, import, refused] — docs/development.md#layers
const TABLE: [string, string, boolean][] = [
  ['src/jwt/verifier.ts', '../check/pipeline.js', true],
  ['src/spicedb/setup.ts', '../server/app.js', true],
  ['src/tokens/token-client.ts', '../cli/main.js', true],
  ['src/token-exchange/server.ts', '../dev/dev-auth.js', true],
  ['src/config/load.ts', '../spicedb/client.js', true],
  ['src/config/referenced-files.ts', '../pki/describe.js', false],
  ['src/check/pipeline.ts', '../server/app.js', true],
  ['src/check/inbound/authorize.ts', '../../spicedb/permission-checker.js', false],
  ['src/server/app.ts', '../cli/main.js', true],
  ['src/server/app.ts', '../check/handler.js', false],
  ['src/clock.ts', './jwt/verifier.js', true],
  ['src/log.ts', './redact.js', false],
  ['src/metrics/sidecar.ts', '../spicedb/client.js', true],
  ['src/metrics/sidecar.ts', '../errors.js', false],
  ['src/cli/main.ts', '../server/app.js', false],
];

describe('import layers (eslint no-restricted-imports)', () => {
  it.each(TABLE)('%s importing %s: refused=%s', async (file, spec, expected) => {
    expect(await refused(file, spec)).toBe(expected);
  });
});
