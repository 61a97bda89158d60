import { z } from 'zod';
import { durationMs, listenAddress } from '../fields.js';

export const serverSection = () =>
  z
    .strictObject({
      /** ext_authz gRPC listener (Envoy's grpc_service points here). */
      grpcAddress: listenAddress.default('127.0.0.1:9191'),
      /** /healthz, /readyz and /metrics. */
      httpAddress: listenAddress.default('127.0.0.1:9464'),
      /** How long SIGTERM waits for in-flight checks before closing connections. */
      shutdownGraceMs: durationMs(300_000).default(10_000),
      /** Extra wait after reporting NOT_SERVING, so Envoy and the kubelet see it before we stop. */
      drainDelayMs: z.number().int().min(0).max(60_000).default(0),
    })
    .prefault({});

export const logSection = () =>
  z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    })
    .prefault({});
