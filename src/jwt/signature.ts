import { constants, KeyObject, verify, type webcrypto } from 'node:crypto';

/**
 * Verifies a JWS signature synchronously with node:crypto (the same OpenSSL that backs WebCrypto)
 * for a key that jose resolved and imported from the issuer's JWKS. jose's own verify goes through
 * WebCrypto, which hops to the libuv thread pool and back for every token: on a cold cache that
 * hop costs about as much as the signature itself.
 *
 * Before verifying, the key is held to what jose requires of it for the algorithm (WebCrypto
 * algorithm, curve, hash, `verify` usage, RSA keys of at least 2048 bits).
 */
interface Spec {
  /** WebCrypto algorithm name the imported key must carry. */
  readonly name: string;
  readonly namedCurve?: string;
  readonly hash?: string;
  /** node:crypto digest (null: the algorithm hashes itself, Ed25519). */
  readonly digest: string | null;
  /** ECDSA: R || S, each the curve's size (RFC 7518 §3.4). */
  readonly p1363Bytes?: number;
  readonly pss?: boolean;
}

const ecdsa = (namedCurve: string, bits: number, p1363Bytes: number): Spec => ({
  name: 'ECDSA',
  namedCurve,
  digest: `sha${bits}`,
  p1363Bytes,
});
const rsa = (bits: number, pss: boolean): Spec => ({
  name: pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5',
  hash: `SHA-${bits}`,
  digest: `sha${bits}`,
  pss,
});

const SPECS: Readonly<Record<string, Spec>> = {
  ES256: ecdsa('P-256', 256, 64),
  ES384: ecdsa('P-384', 384, 96),
  ES512: ecdsa('P-521', 512, 132),
  RS256: rsa(256, false),
  RS384: rsa(384, false),
  RS512: rsa(512, false),
  PS256: rsa(256, true),
  PS384: rsa(384, true),
  PS512: rsa(512, true),
  EdDSA: { name: 'Ed25519', digest: null },
};

/** Algorithms verified here; any other goes through jose's own jwtVerify. */
export function hasSyncVerify(alg: string): boolean {
  return Object.hasOwn(SPECS, alg);
}

type Algorithm = webcrypto.KeyAlgorithm & {
  namedCurve?: string;
  hash?: { name: string };
  modulusLength?: number;
};

/** The same refusals jose makes (a TypeError), before any signature is checked. */
function checkKey(alg: string, spec: Spec, key: webcrypto.CryptoKey): void {
  const a = key.algorithm as Algorithm;
  const unusable = (what: string) =>
    new TypeError(`CryptoKey does not support this operation, its ${what} for ${alg}`);
  if (a.name !== spec.name) throw unusable(`algorithm.name must be ${spec.name}`);
  if (spec.namedCurve && a.namedCurve !== spec.namedCurve)
    throw unusable(`namedCurve must be ${spec.namedCurve}`);
  if (spec.hash && a.hash?.name !== spec.hash) throw unusable(`hash must be ${spec.hash}`);
  if (spec.hash && (typeof a.modulusLength !== 'number' || a.modulusLength < 2048))
    throw unusable('modulusLength must be 2048 bits or larger');
  if (!key.usages.includes('verify')) throw unusable('usages must include verify');
}

/** KeyObjects of imported keys; a key set refresh imports new CryptoKeys, the old ones go. */
const keyObjects = new WeakMap<webcrypto.CryptoKey, KeyObject>();

function keyObject(key: webcrypto.CryptoKey): KeyObject {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = KeyObject.from(key)));
  return k;
}

/**
 * True when `signature` (base64url) is `alg`'s signature of `signingInput` (the ASCII
 * `header.payload`) under `key`. Throws TypeError when the key does not fit the algorithm.
 */
export function verifySignature(
  alg: string,
  key: webcrypto.CryptoKey,
  signingInput: string,
  signature: string,
): boolean {
  const spec = SPECS[alg];
  if (!spec) throw new TypeError(`no synchronous verification for ${alg}`);
  checkKey(alg, spec, key);
  const sig = Buffer.from(signature, 'base64url');
  if (spec.p1363Bytes !== undefined && sig.length !== spec.p1363Bytes) return false;
  const data = Buffer.from(signingInput, 'latin1');
  const k = keyObject(key);
  if (spec.p1363Bytes !== undefined)
    return verify(spec.digest, data, { key: k, dsaEncoding: 'ieee-p1363' }, sig);
  if (spec.pss) {
    return verify(
      spec.digest,
      data,
      {
        key: k,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      },
      sig,
    );
  }
  return verify(spec.digest, data, k, sig);
}
