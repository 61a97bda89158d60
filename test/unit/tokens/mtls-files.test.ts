import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, type Issued } from '../../../src/pki/certificates.js';
import { MtlsFiles, type MtlsFilesEvent } from '../../../src/tokens/mtls-files.js';

describe('MtlsFiles', () => {
  let first: Issued;
  let renewed: Issued;
  beforeAll(async () => {
    const ca = await createCa('test CA');
    const leaf = { commonName: 'gateway', usage: 'client', dnsNames: ['gateway'] } as const;
    [first, renewed] = [await issueLeaf(ca, leaf), await issueLeaf(ca, leaf)];
  });

  const setup = (pair: Issued) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-mtls-'));
    const files = { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') };
    writeFileSync(files.certFile, pair.cert);
    writeFileSync(files.keyFile, pair.key);
    const events: MtlsFilesEvent[] = [];
    return { files, events, tls: new MtlsFiles(files, (e) => events.push(e)) };
  };

  it('re-reads a renewed pair on the next call and reports which certificate it loaded', () => {
    const { files, events, tls } = setup(first);
    expect(tls.current().cert.toString()).toBe(first.cert);
    expect(tls.current().cert.toString()).toBe(first.cert);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'loaded',
      certificate: expect.stringContaining('CN=gateway'),
    });
    writeFileSync(files.certFile, renewed.cert);
    writeFileSync(files.keyFile, renewed.key);
    expect(tls.current().key.toString()).toBe(renewed.key);
    expect(events.at(-1)).toMatchObject({ kind: 'loaded' });
    expect((events.at(-1) as { serial: string }).serial).not.toBe(
      (events[0] as { serial: string }).serial,
    );
  });

  it('keeps the previous pair while a renewal is half-written, and says so once', () => {
    const { files, events, tls } = setup(first);
    tls.current();
    writeFileSync(files.certFile, renewed.cert); // the key has not landed yet
    for (let i = 0; i < 3; i++) expect(tls.current().cert.toString()).toBe(first.cert);
    expect(events.filter((e) => e.kind === 'mismatch')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      kind: 'mismatch',
      error: expect.stringMatching(/are not a usable pair .*keeping the previous pair/),
    });
    writeFileSync(files.keyFile, renewed.key);
    expect(tls.current().cert.toString()).toBe(renewed.cert);
    expect(JSON.stringify(events)).not.toContain('PRIVATE KEY');
  });

  it('refuses a mismatched pair when it has no previous one', () => {
    const { files } = setup(first);
    writeFileSync(files.keyFile, renewed.key);
    expect(() => new MtlsFiles(files).current()).toThrow(/are not a usable pair/);
  });
});
