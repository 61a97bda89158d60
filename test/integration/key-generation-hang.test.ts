import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { finished } from '../helpers/processes.js';
import { ROOT } from '../helpers/tools.js';

/**
 * Node 20 hangs a process that exports a key while a garbage collection destroys the job that
 * generated it (both take the key's mutex on the same thread: src/pki/ec-key-pair.ts). With
 * 1 MiB semi-spaces collections come every few keys: the pattern token-exchange's key rotation and
 * the dev issuers used (generateKeyPairSync / jose generateKeyPair, then a JWK export) hung after
 * 3,500–5,500 keys in each of four tries; keys from generateEcKeyPair ran 43,000 without one.
 */
const SCRIPT = `
const { generateEcKeyPair } = await import('./src/pki/ec-key-pair.ts');
const { createPublicKey } = await import('node:crypto');
// As token-exchange's key store does with each key: derive the public key, export both as JWK.
for (let i = 0; i < 10000; i++) {
  const { privateKey } = generateEcKeyPair();
  createPublicKey(privateKey).export({ format: 'jwk' });
  privateKey.export({ format: 'jwk' });
}
console.log('exported 10000 key pairs');
`;

describe('generated keys exported under garbage collection', () => {
  it('never hang the process', async () => {
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', SCRIPT],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // The deadline turns a hang into a failure; it times nothing.
    const run = await finished(child, 120_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('exported 10000 key pairs');
  }, 150_000);
});
