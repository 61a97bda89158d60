import { readFileSync } from 'node:fs';
import { v1 } from '@authzed/authzed-node';
import type { SpicedbConfig } from '../config/sections/spicedb.js';
import { ConfigError } from '../errors.js';

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
 * The one long-lived SpiceDB client. Plaintext uses INSECURE_PLAINTEXT_CREDENTIALS, which always
 * sends the key: INSECURE_LOCALHOST_ALLOWED sends none unless the endpoint literally starts with
 * `localhost:`, and crashes grpc-js 1.14 on 127.0.0.1 and unix sockets.
 */
export function createSpicedbClient(cfg: SpicedbConfig, presharedKey: string): ZedClient {
  if (cfg.transport === 'plaintext') {
    return v1.NewClient(
      presharedKey,
      cfg.endpoint,
      v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS,
      PRECONNECT_PERMISSIONS,
      CHANNEL_OPTIONS,
    );
  }
  if (cfg.caFile !== undefined) {
    return v1.NewClientWithCustomCert(
      presharedKey,
      cfg.endpoint,
      readFileSync(cfg.caFile),
      PRECONNECT_PERMISSIONS,
      CHANNEL_OPTIONS,
    );
  }
  return v1.NewClient(
    presharedKey,
    cfg.endpoint,
    v1.ClientSecurity.SECURE,
    PRECONNECT_PERMISSIONS,
    CHANNEL_OPTIONS,
  );
}
