import { deadlineIn } from '../clock.js';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  decodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
  type ExplainStep,
} from './explanation-trailer.js';
import { authorizationService } from './proto.js';
import type { CheckRequest, CheckResponse } from './types.js';

export interface ExplainedResponse {
  readonly response: CheckResponse;
  /** Undefined when the server sent no explanation (another ext_authz server, an old version). */
  readonly steps: ExplainStep[] | undefined;
}

/** A small ext_authz client, used by `jwtexchange check` and tests to talk to a running server. */
export class AuthorizationClient {
  private readonly client: Client & {
    Check(
      req: CheckRequest,
      metadata: Metadata,
      opts: { deadline: number },
      cb: (err: ServiceError | null, res?: CheckResponse) => void,
    ): ClientUnaryCall;
  };

  constructor(address: string) {
    const Ctor = makeGenericClientConstructor(authorizationService(), 'Authorization');
    this.client = new Ctor(address, credentials.createInsecure()) as unknown as typeof this.client;
  }

  check(req: CheckRequest, timeoutMs = 5_000): Promise<CheckResponse> {
    return new Promise((resolve, reject) =>
      this.client.Check(req, new Metadata(), { deadline: deadlineIn(timeoutMs) }, (err, res) =>
        err ? reject(err) : resolve(res!),
      ),
    );
  }

  /** Check, asking the server to explain its decision (call metadata in, trailer out). */
  checkExplained(req: CheckRequest, timeoutMs = 5_000): Promise<ExplainedResponse> {
    const metadata = new Metadata();
    metadata.set(EXPLAIN_REQUEST_KEY, 'true');
    return new Promise((resolve, reject) => {
      let response: CheckResponse | undefined;
      const call = this.client.Check(
        req,
        metadata,
        { deadline: deadlineIn(timeoutMs) },
        (err, res) => (err ? reject(err) : (response = res)),
      );
      // The trailers arrive with the status, which grpc-js reports after the callback.
      call.on('status', (status: StatusObject) => {
        if (!response) return;
        const steps = decodeExplanation(status.metadata.get(EXPLAIN_TRAILER_KEY)[0]);
        resolve({ response, steps });
      });
    });
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
