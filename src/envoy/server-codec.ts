import type { ServiceDefinition } from '@grpc/grpc-js';
import { decodeCheckRequest } from './check-request-decoder.js';
import { encodeCheckResponse } from './check-response-encoder.js';
import { authorizationService, CHECK_METHOD_PATH } from './proto.js';
import type { CheckRequest, CheckResponse } from './types.js';

/**
 * envoy.service.auth.v3.Authorization as the server registers it: the same method as the
 * proto-loader definition (proto.ts), with the lean decoder and encoder on the server's side of
 * the wire. The client's side (used by `jwtexchange check` and tests) stays the generic codec and
 * is loaded only if called.
 */
export function leanAuthorizationService(): ServiceDefinition {
  const generic = () => authorizationService().Check!;
  return {
    Check: {
      path: CHECK_METHOD_PATH,
      requestStream: false,
      responseStream: false,
      originalName: 'check',
      requestDeserialize: decodeCheckRequest,
      responseSerialize: encodeCheckResponse,
      requestSerialize: (req: CheckRequest) => generic().requestSerialize(req),
      responseDeserialize: (buf: Buffer) => generic().responseDeserialize(buf) as CheckResponse,
    },
  };
}
