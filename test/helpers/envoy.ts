import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT, tool } from './tools.js';
import { assertPathSettings } from './envoy-path-settings.js';
import { waitFor } from './ports.js';
import { reapOnExit, unlessExited } from './processes.js';
import { captureChildOutput } from './run-logs.js';

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The configs the project ships (envoy/*.yaml), as file names: both directions over both
 * ext_authz transports, gRPC and HTTP (the *-http.yaml twins).
 */
export const SHIPPED_CONFIGS: readonly string[] = readdirSync(path.join(ROOT, 'envoy')).filter(
  (f) => /\.ya?ml$/.test(f),
);

export interface EnvoyPatches {
  /**
   * listener name → port to listen on (127.0.0.1). Every other listener listens on port 0 (a
   * port Envoy picks; ask RunningEnvoy.port(name)). Give a port only for a listener that must
   * keep its port across an Envoy restart (a reservePort() port).
   */
  listeners?: Record<string, number>;
  /** cluster name → port of its single 127.0.0.1 endpoint. */
  clusters?: Record<string, number>;
  /** Last-minute edits of the parsed config. */
  edit?: (config: Yaml) => void;
  /**
   * Keep the config's ext_authz timeouts (grpc_service and http_service). By default they are
   * stretched to 30 s: they are set for a sidecar with its own cores, and a test machine loaded
   * far beyond its cores would turn a slow check into a 503 in tests that are not about timeouts.
   * A test of the timeout keeps them. (HTTP mode does not tell the sidecar its deadline: a test
   * of it sets server.httpCheckTimeoutMs to 30000 too.)
   */
  keepTimeouts?: boolean;
  /** The ext_authz timeout to set instead of 30 s (a test of the deadline with some slack). */
  extAuthzTimeout?: string;
}

const TEST_EXT_AUTHZ_TIMEOUT = '30s';

/** Every ext_authz filter of every listener (HTTP filter chains). */
function extAuthzFilters(config: Yaml): Yaml[] {
  const found: Yaml[] = [];
  for (const l of config.static_resources.listeners ?? []) {
    for (const chain of l.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        for (const h of f.typed_config?.http_filters ?? []) {
          if (h.name === 'envoy.filters.http.ext_authz') found.push(h.typed_config);
        }
      }
    }
  }
  return found;
}

/** Loads a config from envoy/ and points its listeners and clusters at loopback test ports. */
export function renderEnvoyConfig(file: string, patches: EnvoyPatches = {}): Yaml {
  const config = parse(readFileSync(path.resolve(ROOT, file), 'utf8')) as Yaml;
  for (const l of config.static_resources.listeners ?? []) {
    const port = patches.listeners?.[l.name] ?? 0;
    l.address.socket_address = { address: '127.0.0.1', port_value: port };
  }
  for (const c of config.static_resources.clusters ?? []) {
    const port = patches.clusters?.[c.name];
    if (port === undefined) continue;
    for (const group of c.load_assignment.endpoints) {
      for (const ep of group.lb_endpoints)
        ep.endpoint.address.socket_address = { address: '127.0.0.1', port_value: port };
    }
  }
  if (!patches.keepTimeouts) {
    const timeout = patches.extAuthzTimeout ?? TEST_EXT_AUTHZ_TIMEOUT;
    for (const f of extAuthzFilters(config)) {
      const service = f.grpc_service ?? f.http_service;
      if (!service) continue;
      if (f.grpc_service) f.grpc_service.timeout = timeout;
      if (f.http_service?.server_uri) f.http_service.server_uri.timeout = timeout;
      // Envoy uses max_interval as the per-try timeout: keep it equal to the timeout.
      const backOff = service.retry_policy?.retry_back_off;
      if (backOff) backOff.max_interval = timeout;
    }
  }
  patches.edit?.(config);
  return config;
}

export interface RunningEnvoy {
  readonly adminPort: number;
  /** listener name → the port it is bound to. */
  readonly ports: Readonly<Record<string, number>>;
  /** The bound port of one listener (throws for an unknown name). */
  port(listener: string): number;
  readonly logs: () => string;
  /** Envoy's process id (the bench reads its CPU time). */
  readonly pid: number;
  stats(filter?: string): Promise<string>;
  /** One counter or gauge by its full name (e.g. `http.ingress.ext_authz.error`); NaN if absent. */
  counter(name: string): Promise<number>;
  stop(): Promise<void>;
}

interface ListenerStatus {
  name: string;
  local_address?: { socket_address?: { port_value?: number } };
}

/** listener name → bound port, from the admin API (port 0 listeners show their real port). */
async function boundPorts(admin: string): Promise<Record<string, number>> {
  const res = await fetch(`${admin}/listeners?format=json`);
  const body = (await res.json()) as { listener_statuses?: ListenerStatus[] };
  const ports: Record<string, number> = {};
  for (const l of body.listener_statuses ?? []) {
    const port = l.local_address?.socket_address?.port_value;
    if (port) ports[l.name] = port;
  }
  return ports;
}

/**
 * Starts a real Envoy (from .tools) on a rendered config and waits until it is LIVE. The admin
 * listener binds port 0 and Envoy writes its address to --admin-address-path; listeners on port
 * 0 are looked up in /listeners. No port number is ever chosen here and handed to Envoy.
 */
export async function startEnvoy(
  config: Yaml,
  options: { concurrency?: number } = {},
): Promise<RunningEnvoy> {
  // Every Envoy a test or the demo runs keeps the path settings the sidecar relies on.
  assertPathSettings(config, 'the rendered Envoy config');
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-envoy-'));
  config.admin = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
  const file = path.join(dir, 'envoy.yaml');
  const adminFile = path.join(dir, 'admin-address');
  writeFileSync(file, stringify(config));
  let output = '';
  const child: ChildProcess = spawn(
    tool('envoy'),
    [
      ['-c', file, '--admin-address-path', adminFile, '--disable-hot-restart'],
      ['--log-level', 'warn', '--concurrency', String(options.concurrency ?? 1)],
    ].flat(),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // A crashed test run must not leave an Envoy behind.
  const exited = reapOnExit(child);
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  captureChildOutput(child, 'envoy');
  let admin = '';
  let ports: Record<string, number> = {};
  const names: string[] = (config.static_resources.listeners ?? []).map((l: Yaml) => l.name);
  try {
    const live = waitFor(async () => {
      if (!existsSync(adminFile)) return false;
      admin = `http://${readFileSync(adminFile, 'utf8').trim()}`;
      const res = await fetch(`${admin}/ready`);
      if (!res.ok || (await res.text()).trim() !== 'LIVE') return false;
      ports = await boundPorts(admin);
      return names.every((n) => ports[n] !== undefined);
    }, 'envoy to be LIVE with every listener bound');
    await unlessExited(child, 'envoy', () => output, live);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The config folder goes with the process (the bench runs Envoys outside a test run's TMPDIR).
  void exited.then(() => rmSync(dir, { recursive: true, force: true })).catch(() => undefined);
  const stats = async (filter?: string) => {
    const res = await fetch(
      `${admin}/stats${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`,
    );
    return res.text();
  };
  return {
    adminPort: Number(new URL(admin).port),
    pid: child.pid!,
    ports,
    port(listener) {
      const p = ports[listener];
      if (p === undefined) throw new Error(`envoy has no listener ${listener}`);
      return p;
    },
    logs: () => output,
    stats,
    async counter(name) {
      const text = await stats(`^${name.replace(/[.]/g, '\\.')}$`);
      const line = text.split('\n').find((l) => l.startsWith(`${name}: `));
      return Number(line?.slice(name.length + 2) ?? NaN);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
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
