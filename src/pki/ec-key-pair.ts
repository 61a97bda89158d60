import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/**
 * A new P-256 key pair whose KeyObjects share nothing with the job that generated them.
 *
 * On Node 20 a key's synchronous export (JWK, PEM) holds the key's mutex while it allocates; if
 * that allocation starts a garbage collection which destroys the finished generation job of the
 * same key, the job's destructor waits for the same mutex on the same thread, and the process
 * hangs for good (seen in a CI run: ExportJWKEcKey → GC → ~KeyGenJob → mutex wait). Generating
 * to DER and importing it gives the pair key data of its own, which no job ever locks.
 */
export function generateEcKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey: der } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
    publicKeyEncoding: { format: 'der', type: 'spki' },
  });
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0); // the private key's bytes are not left behind in the buffer
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
