import { readFileSync } from 'node:fs';
import { v1 } from '@authzed/authzed-node';
import { credentials, InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import type { SpicedbConfig } from '../config/sections/spicedb.js';
import { ConfigError } from '../errors.js';
import { tlsChannel } from './tls-channel.js';

export type ZedClient = v1.ZedClientInterface;

/** authzed-node's PreconnectServices.PERMISSIONS_SERVICE (the enum is not exported). */
const PRECONNECT_PERMISSIONS = 1;

/**
 * grpc-js backs reconnects off up to 120 s; a sidecar that denies while SpiceDB is away should
 * notice its return within a couple of seconds.
 */
const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/** Reads the preshared key from its file or environment variable; the key never appears in errors. */
export function readPresharedKey(cfg: SpicedbConfig, env = process.env): string {
  let key: string | undefined;
  let where: string;
  if (cfg.presharedKeyFile !== undefined) {
    where = 'spicedb.presharedKeyFile';
    try {
      key = readFileSync(cfg.presharedKeyFile, 'utf8').trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError([
        { path: where, message: `cannot read ${cfg.presharedKeyFile} (${code})` },
      ]);
    }
  } else {
    where = 'spicedb.presharedKeyEnv';
    key = env[cfg.presharedKeyEnv!]?.trim();
  }
  if (!key) {
    const source = cfg.presharedKeyFile ?? `$${cfg.presharedKeyEnv}`;
    throw new ConfigError([
      { path: where, message: `the SpiceDB preshared key in ${source} is empty or unset` },
    ]);
  }
  return key;
}

/**
 * Sends `authorization: Bearer <key>` on every call, reading the key per call so a rotated key
 * file is used at once. An interceptor rather than call credentials, because grpc-js refuses
 * call credentials on a plaintext channel.
 */
function presharedKeyInterceptor(key: () => string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${key()}`);
        next(metadata, listener);
      },
    });
}

/**
 * The one long-lived SpiceDB client: plaintext only when configured, otherwise TLS verified
 * against caFile or the system roots (tls-channel.ts, which also makes an IP endpoint work).
 * (authzed-node's INSECURE_LOCALHOST_ALLOWED sends no key unless the endpoint literally starts
 * with `localhost:` and crashes grpc-js 1.14 on 127.0.0.1 and unix sockets; it is never used.)
 */
export function createSpicedbClient(cfg: SpicedbConfig, key: string | (() => string)): ZedClient {
  const tls =
    cfg.transport === 'plaintext'
      ? undefined
      : tlsChannel(cfg.endpoint, cfg.caFile !== undefined ? readFileSync(cfg.caFile) : undefined);
  const channel = tls?.credentials ?? credentials.createInsecure();
  return v1.NewClientWithChannelCredentials(cfg.endpoint, channel, PRECONNECT_PERMISSIONS, {
    ...CHANNEL_OPTIONS,
    ...tls?.options,
    interceptors: [presharedKeyInterceptor(typeof key === 'string' ? () => key : key)],
  });
}
