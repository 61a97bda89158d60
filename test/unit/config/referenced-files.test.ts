import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import {
  checkFiles,
  sidecarFiles,
  type FileKind,
  type ReferencedFile,
} from '../../../src/config/referenced-files.js';
import { createCa, issueLeaf } from '../../../src/pki/certificates.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const NOW = Date.parse('2030-01-05T00:00:00Z');

beforeAll(async () => {
  const ca = await createCa('test CA');
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const leaf = await issueLeaf(ca, {
    commonName: 'gateway',
    dnsNames: ['gateway'],
    usage: 'client',
    validDays: 10,
    notBefore,
  });
  const other = await issueLeaf(ca, { commonName: 'other', usage: 'client', notBefore });
  write('ca.pem', ca.cert);
  write('bundle.pem', ca.cert + ca.cert);
  write('leaf.pem', leaf.cert);
  write('leaf.key', leaf.key);
  write('other.key', other.key);
});

const check = (kind: FileKind, name: string, now = NOW) =>
  checkFiles([{ setting: 's', file: path.join(dir, name), kind }], undefined, now)[0]!;

describe('checkFiles', () => {
  it.each<[FileKind, string, string, RegExp]>([
    [
      'jwks',
      'ok.jwks',
      '{"keys":[{"kty":"EC","kid":"a"},{"kty":"RSA"},{"kty":"oct"}]}',
      /^2 key\(s\): a, \(no kid\)$/,
    ],
    ['secret', 'ok.secret', 'hunter2\n', /^present \(not shown\)$/],
  ])('describes a good %s file without its content', (kind, name, text, detail) => {
    write(name, text);
    const r = check(kind, name);
    expect(r.problem).toBeUndefined();
    expect(r.detail).toMatch(detail);
    expect(r.detail).not.toContain('hunter2');
  });

  it.each<[FileKind, string, string, string]>([
    [
      'jwks',
      'priv.jwks',
      '{"keys":[{"kty":"EC","d":"x"}]}',
      'it holds private key material ("d"): publish only public keys',
    ],
    ['jwks', 'nokeys.jwks', '{"k":[]}', 'not a JWK Set (no "keys" array)'],
    ['jwks', 'oct.jwks', '{"keys":[{"kty":"oct"}]}', 'no EC, RSA or OKP key in it'],
    ['secret', 'empty.secret', ' \n', 'it is empty'],
    ['certificate', 'junk.pem', 'junk', 'no PEM certificate in it'],
    ['ca-bundle', 'junk-ca.pem', 'junk', 'no PEM certificate in it'],
  ])('refuses a bad %s file (%s)', (kind, name, text, why) => {
    const file = write(name, text);
    expect(check(kind, name).problem).toBe(
      `${file} is not a usable ${kind.replace('-', ' ')}: ${why}`,
    );
  });

  it('names a file that cannot be read', () => {
    const file = path.join(dir, 'missing.pem');
    expect(check('certificate', 'missing.pem').problem).toBe(`cannot read ${file}: no such file`);
  });

  it('describes a certificate, and refuses it outside its validity', () => {
    expect(check('certificate', 'leaf.pem').detail).toMatch(/^CN=gateway, DNS:gateway; expires /);
    expect(check('certificate', 'leaf.pem', Date.parse('2030-02-01T00:00:00Z')).problem).toMatch(
      /: the certificate expired on /,
    );
    expect(check('certificate', 'leaf.pem', Date.parse('2029-01-01T00:00:00Z')).problem).toMatch(
      /: the certificate is not valid before /,
    );
  });

  it('counts the certificates of a CA bundle', () => {
    expect(check('ca-bundle', 'bundle.pem').detail).toBe('2 CA certificate(s)');
  });

  it('refuses a private key that does not belong to its certificate', () => {
    const pair = (key: string): ReferencedFile[] => [
      { setting: 'certFile', file: path.join(dir, 'leaf.pem'), kind: 'certificate' },
      {
        setting: 'keyFile',
        file: path.join(dir, key),
        kind: 'private-key',
        pairedWith: 'certFile',
      },
    ];
    expect(checkFiles(pair('leaf.key'), undefined, NOW)[1]).toMatchObject({ detail: 'ec key' });
    expect(checkFiles(pair('other.key'), undefined, NOW)[1]!.problem).toBe(
      `${path.join(dir, 'other.key')} is not the private key of certFile`,
    );
  });

  it('reads each file where locate puts it', () => {
    const r = checkFiles([{ setting: 's', file: '/mnt/ca.pem', kind: 'ca-bundle' }], (f) =>
      path.join(dir, path.basename(f)),
    )[0]!;
    expect(r).toEqual({ setting: 's', file: '/mnt/ca.pem', detail: '1 CA certificate(s)' });
  });
});

describe('sidecarFiles', () => {
  it('lists every file of a configuration by its setting', () => {
    const config = parseConfig(
      {
        inbound: {
          issuers: [
            { issuer: 'https://a.example', jwksFile: 'a.jwks', audiences: ['gw'] },
            {
              issuer: 'https://b.example',
              jwksUri: 'https://b.example/jwks',
              jwksCaFile: 'b-ca.pem',
              audiences: ['gw'],
            },
          ],
        },
        spicedb: { endpoint: 'spicedb:50051', caFile: 'db-ca.pem', presharedKeyFile: 'db.key' },
      },
      '/etc/jwtx',
    );
    expect(sidecarFiles(config).map((f) => [f.setting, f.file, f.kind])).toEqual([
      ['inbound.issuers[0].jwksFile', '/etc/jwtx/a.jwks', 'jwks'],
      ['inbound.issuers[1].jwksCaFile', '/etc/jwtx/b-ca.pem', 'ca-bundle'],
      ['spicedb.caFile', '/etc/jwtx/db-ca.pem', 'ca-bundle'],
      ['spicedb.presharedKeyFile', '/etc/jwtx/db.key', 'secret'],
    ]);
  });
});
