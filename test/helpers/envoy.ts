import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT, tool } from './tools.js';
import { assertPathSettings } from './envoy-path-settings.js';
import { freePort, waitFor } from './ports.js';
import { captureChildOutput } from './run-logs.js';

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EnvoyPatches {
  /** listener name → port to listen on (127.0.0.1). */
  listeners?: Record<string, number>;
  /** cluster name → port of its single 127.0.0.1 endpoint. */
  clusters?: Record<string, number>;
  /** Last-minute edits of the parsed config. */
  edit?: (config: Yaml) => void;
}

/** Loads a config from envoy/ and points its listeners and clusters at test ports. */
export function renderEnvoyConfig(file: string, patches: EnvoyPatches): Yaml {
  const config = parse(readFileSync(path.resolve(ROOT, file), 'utf8')) as Yaml;
  for (const l of config.static_resources.listeners ?? []) {
    const port = patches.listeners?.[l.name];
    if (port !== undefined) l.address.socket_address = { address: '127.0.0.1', port_value: port };
  }
  for (const c of config.static_resources.clusters ?? []) {
    const port = patches.clusters?.[c.name];
    if (port === undefined) continue;
    for (const group of c.load_assignment.endpoints) {
      for (const ep of group.lb_endpoints)
        ep.endpoint.address.socket_address = { address: '127.0.0.1', port_value: port };
    }
  }
  patches.edit?.(config);
  return config;
}

export interface RunningEnvoy {
  readonly adminPort: number;
  readonly logs: () => string;
  stats(filter?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a real Envoy (from .tools) on a rendered config and waits until it is LIVE. */
export async function startEnvoy(
  config: Yaml,
  options: { concurrency?: number } = {},
): Promise<RunningEnvoy> {
  // Every Envoy a test or the demo runs keeps the path settings the sidecar relies on.
  assertPathSettings(config, 'the rendered Envoy config');
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-envoy-'));
  const adminPort = await freePort();
  config.admin = { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } };
  const file = path.join(dir, 'envoy.yaml');
  writeFileSync(file, stringify(config));
  let output = '';
  const child: ChildProcess = spawn(
    tool('envoy'),
    [
      '-c',
      file,
      '--disable-hot-restart',
      '--log-level',
      'warn',
      '--concurrency',
      String(options.concurrency ?? 1),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  captureChildOutput(child, 'envoy');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`envoy exited: ${output}`);
        const res = await fetch(`${admin}/ready`);
        return res.ok && (await res.text()).trim() === 'LIVE';
      },
      'envoy to be LIVE',
      15_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    adminPort,
    logs: () => output,
    async stats(filter) {
      const res = await fetch(
        `${admin}/stats${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`,
      );
      return res.text();
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** `envoy --mode validate` on a file; resolves with its output, rejects if invalid. */
export function validateEnvoyConfig(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      tool('envoy'),
      ['--mode', 'validate', '-c', file, '--log-level', 'error', '--disable-hot-restart'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${file} is invalid:\n${out}`)),
    );
  });
}
