import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import type { DevPki } from '../../src/pki/dev-pki.js';
import { waitFor } from './ports.js';
import { reapOnExit, unlessExited } from './processes.js';
import { assertPathSettings } from './envoy-path-settings.js';
import { captureChildOutput } from './run-logs.js';
import { ROOT, tool } from './tools.js';

export const CHART = path.join(ROOT, 'helm/jwtexchange');

// Rendered Kubernetes objects are checked field by field; a loose type keeps the tests short.
export type K8sObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the helm binary from .tools; never rejects, the caller asserts on code and output. */
export function helm(args: string[], cwd = ROOT): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(tool('helm'), args, { cwd, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export interface TemplateOptions {
  /** Values files, relative to the chart (e.g. `ci/demo-gateway-values.yaml`) or absolute. */
  readonly values?: readonly string[];
  /** --set-string style overrides (key → value). */
  readonly set?: Record<string, string>;
  readonly chart?: string;
  readonly release?: string;
  readonly namespace?: string;
}

function templateArgs(o: TemplateOptions): string[] {
  const chart = o.chart ?? CHART;
  const args = ['template', o.release ?? 'gw', chart, '--namespace', o.namespace ?? 'platform'];
  for (const v of o.values ?? []) args.push('--values', path.resolve(chart, v));
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`);
  return args;
}

/** `helm template` → the rendered objects (throws with helm's message if rendering fails). */
export async function helmTemplate(o: TemplateOptions = {}): Promise<K8sObject[]> {
  const res = await helm(templateArgs(o));
  if (res.code !== 0) throw new Error(`helm template failed:\n${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML is invalid: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((d): d is K8sObject => d !== null);
}

/** `helm template` expected to fail: resolves with helm's error output. */
export async function helmTemplateError(o: TemplateOptions): Promise<string> {
  const res = await helm(templateArgs(o));
  if (res.code === 0) throw new Error('helm template succeeded but was expected to fail');
  return res.stderr;
}

export function findObject(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} ${kind} objects${name ? ` named ${name}` : ''} rendered`);
  }
  return found[0]!;
}

export function kinds(objects: readonly K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

/**
 * Writes the files of the chart's Envoy ConfigMap into dir, pointing the config's own references
 * to /etc/envoy at dir — and those to the TLS Secret's mount (/etc/jwtexchange/tls) at tlsDir —
 * so `envoy --mode validate` or a real Envoy can load them here.
 */
export function writeEnvoyConfigMap(
  objects: readonly K8sObject[],
  dir: string,
  tlsDir?: string,
): string {
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && String(o.metadata.name).endsWith('-envoy'),
  );
  if (!cm) throw new Error('no Envoy ConfigMap rendered');
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(cm.data as Record<string, string>)) {
    let local = text.replace(/\/etc\/envoy(?=[/\s}])/g, dir);
    if (tlsDir) local = local.replace(/\/etc\/jwtexchange\/tls(?=[/\s}])/g, tlsDir);
    writeFileSync(path.join(dir, file), local);
  }
  return path.join(dir, 'envoy.yaml');
}

/** All containers of a pod spec, sidecars (native or not) included. */
export function podContainers(pod: K8sObject): K8sObject[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

/** Lays out a dev PKI's server certificate the way the chart mounts its Secret (cert-manager keys). */
export function writeTlsSecretDir(pki: DevPki, dir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(pki.serverCertFile, path.join(dir, 'tls.crt'));
  copyFileSync(pki.serverKeyFile, path.join(dir, 'tls.key'));
  copyFileSync(pki.caFile, path.join(dir, 'ca.crt'));
  return dir;
}

export interface EnvoyProcess {
  readonly logs: () => string;
  stop(): Promise<void>;
}

/**
 * Runs a real Envoy on a config file the chart rendered and waits until the chart's own health
 * listener answers /ready (test/helpers/envoy.ts replaces the admin address, which the health
 * listener proxies to, so it cannot run these files unchanged).
 */
export async function runRenderedEnvoy(file: string, healthPort: number): Promise<EnvoyProcess> {
  assertPathSettings(parseYaml(readFileSync(file, 'utf8')) as K8sObject, file);
  const child = spawn(
    tool('envoy'),
    ['-c', file, '--disable-hot-restart', '--log-level', 'warn', '--concurrency', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  captureChildOutput(child, 'envoy-helm');
  // A crashed test run must not leave an Envoy behind.
  const exited = reapOnExit(child);
  try {
    const ready = waitFor(
      async () => (await fetch(`http://127.0.0.1:${healthPort}/ready`)).status === 200,
      'the rendered Envoy to answer /ready on its health listener',
    );
    await unlessExited(child, 'envoy', () => output, ready);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    logs: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Binds every listener of a rendered Envoy config to 127.0.0.1 (tests stay on loopback). */
export function loopbackOnly(file: string): void {
  const config = parseYaml(readFileSync(file, 'utf8')) as K8sObject;
  for (const l of config.static_resources.listeners) l.address.socket_address.address = '127.0.0.1';
  writeFileSync(file, stringifyYaml(config));
}
