import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfigInput } from '../../../src/cli/config-input.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-config-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const configMap = (name: string, config = 'log:\n  level: debug\n') =>
  [
    'apiVersion: v1',
    'kind: ConfigMap',
    `metadata: { name: ${name} }`,
    'data:',
    '  config.yaml: |',
    ...config.split('\n').map((l) => `    ${l}`),
  ].join('\n');

function refusal(file: string): string {
  try {
    readConfigInput(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems[0]!.message;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfigInput', () => {
  it('reads a config file, relative paths against its directory', () => {
    const file = write('config.yaml', 'log:\n  level: warn\n');
    expect(readConfigInput(file)).toEqual({
      name: file,
      document: { log: { level: 'warn' } },
      baseDir: dir,
    });
  });

  it('reads the config.yaml of a single ConfigMap as the pod does', () => {
    const file = write('one.yaml', configMap('jwtx'));
    expect(readConfigInput(file)).toEqual({
      name: `${file} (ConfigMap jwtx, config.yaml)`,
      document: { log: { level: 'debug' } },
      baseDir: '/etc/jwtexchange',
      configMap: 'jwtx',
    });
  });

  it('finds the ConfigMap among the objects helm template renders', () => {
    const other = 'apiVersion: v1\nkind: Service\nmetadata: { name: svc }';
    const file = write('rendered.yaml', `${other}\n---\n${configMap('jwtx')}\n---\n${other}`);
    expect(readConfigInput(file).configMap).toBe('jwtx');
  });

  it.each([
    [
      'two ConfigMaps',
      `${configMap('a')}\n---\n${configMap('b')}`,
      /holds 2 ConfigMaps with a config.yaml \(a, b\); render one with helm template --show-only/,
    ],
    [
      'no ConfigMap',
      'kind: Service\n---\nkind: Deployment',
      /holds 2 YAML documents and none is a ConfigMap with config.yaml$/,
    ],
    ['bad YAML among documents', 'kind: Service\n---\na: [\n', /is not valid YAML: /],
  ])('refuses %s', (_name, text, message) => {
    expect(refusal(write(`${_name.replace(/ /g, '-')}.yaml`, text))).toMatch(message);
  });

  it('names a file it cannot read', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(refusal(file)).toBe(`cannot read ${file}: no such file`);
  });
});
