import * as z from 'zod';
import { durationMs, listenAddress } from '../fields.js';

export const serverSection = () =>
  z
    .strictObject({
      /** ext_authz gRPC listener (Envoy's grpc_service points here). */
      grpcAddress: listenAddress.default('127.0.0.1:9191'),
      /**
       * ext_authz HTTP listener for Envoy's `http_service` mode (envoy/ingress-http.yaml): the
       * same checks over HTTP/1.1, at a fraction of the gRPC transport's cost per check. Off
       * unless set.
       */
      httpCheckAddress: listenAddress.optional(),
      /**
       * The deadline of an HTTP check that does not carry Envoy's own
       * (x-envoy-expected-rq-timeout-ms, which Envoy 1.40 sends): set it to Envoy's
       * http_service timeout.
       */
      httpCheckTimeoutMs: durationMs(60_000).default(1_000),
      /** /healthz, /readyz and /metrics. */
      httpAddress: listenAddress.default('127.0.0.1:9464'),
      /** How long SIGTERM waits for in-flight checks before closing connections. */
      shutdownGraceMs: durationMs(300_000).default(10_000),
      /** Extra wait after reporting NOT_SERVING, so Envoy and the kubelet see it before we stop. */
      drainDelayMs: z.number().int().min(0).max(60_000).default(0),
      /**
       * Processes that answer checks on grpcAddress (`jwtexchange serve`). `auto`: the CPU limit
       * of the container (cgroup quota; 1 without one), no more than its memory limit holds
       * (server/container-limits.ts). Above 1, a primary process owns the service tokens and
       * /metrics, and the workers share the port.
       */
      workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
    })
    .prefault({});

export const logSection = () =>
  z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    })
    .prefault({});
