import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { authorizationService } from './proto.js';
import type { CheckRequest, CheckResponse } from './types.js';

/** A small ext_authz client, used by `jwtexchange check` and tests to talk to a running server. */
export class AuthorizationClient {
  private readonly client: Client & {
    Check(
      req: CheckRequest,
      opts: { deadline: number },
      cb: (err: ServiceError | null, res?: CheckResponse) => void,
    ): void;
  };

  constructor(address: string) {
    const Ctor = makeGenericClientConstructor(authorizationService(), 'Authorization');
    this.client = new Ctor(address, credentials.createInsecure()) as unknown as typeof this.client;
  }

  check(req: CheckRequest, timeoutMs = 5_000): Promise<CheckResponse> {
    return new Promise((resolve, reject) =>
      this.client.Check(req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res!),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

/** Builds a CheckRequest the way Envoy would for an HTTP request. */
export function syntheticCheckRequest(input: {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  extensions?: Record<string, string>;
}): CheckRequest {
  const method = input.method ?? 'GET';
  const path = input.path ?? '/';
  const host = input.host ?? 'localhost';
  const headers: Record<string, string> = {
    ':method': method,
    ':path': path,
    ':authority': host,
    ':scheme': 'http',
  };
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    attributes: {
      request: { http: { method, path, host, scheme: 'http', protocol: 'HTTP/1.1', headers } },
      context_extensions: input.extensions ?? {},
    },
  };
}
