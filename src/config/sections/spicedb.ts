import * as z from 'zod';
import { parseHostPort } from '../../net/host-port.js';
import { durationMs, filePath, type SchemaContext } from '../fields.js';

/** host:port, [v6]:port, or unix:///absolute/path (grpc-js target syntax). */
const spicedbEndpoint = z
  .string()
  .refine(
    (v) => /^unix:\/\/\/.+/.test(v) || parseHostPort(v) !== undefined,
    'must be host:port, [ipv6]:port or unix:///path',
  );

/**
 * The SpiceDB connection (docs/authorization.md, "Settings"). One long-lived client is built from
 * it at start; the preshared key comes from a file or an environment variable, never the config.
 */
export const spicedbSection = (ctx: SchemaContext) =>
  z
    .strictObject({
      endpoint: spicedbEndpoint,
      /** tls (default): verify the server against caFile or the system roots. plaintext: no TLS. */
      transport: z.enum(['tls', 'plaintext']).default('tls'),
      /** PEM bundle that signs SpiceDB's certificate (tls only; default: system roots). */
      caFile: filePath(ctx).optional(),
      presharedKeyFile: filePath(ctx).optional(),
      presharedKeyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      /** Deadline of every CheckPermission call; past it the request is denied (fail closed). */
      timeoutMs: durationMs(10_000).default(250),
      /** Deadline of the schema read that validates the rules at start. */
      schemaTimeoutMs: durationMs(60_000).default(5_000),
      /** While SpiceDB is unreachable at start, how often the schema read is retried. */
      schemaRetryMs: durationMs(300_000).default(2_000),
    })
    .refine((s) => (s.presharedKeyFile === undefined) !== (s.presharedKeyEnv === undefined), {
      message: 'set exactly one of presharedKeyFile or presharedKeyEnv',
    })
    .refine((s) => s.transport === 'tls' || s.caFile === undefined, {
      message: 'caFile is only used with transport: tls',
      path: ['caFile'],
    })
    .optional();

export type SpicedbConfig = NonNullable<z.output<ReturnType<typeof spicedbSection>>>;
