import { Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import {
  encodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
} from '../envoy/explanation-trailer.js';
import type { CheckRunner } from './check-runner.js';
import { answerBy } from './deadline.js';

/** Asked for with call metadata, which Envoy's ext_authz client never sets from a request. */
function explanationRequested(call: ServerUnaryCall<CheckRequest, CheckResponse>): boolean {
  const v = call.metadata.get(EXPLAIN_REQUEST_KEY)[0];
  return v === 'true' || v === '1';
}

/**
 * The grpc-js handler for envoy.service.auth.v3.Authorization/Check: the RPC's request and
 * deadline (Envoy's grpc-timeout) go to the check runner (check-runner.ts); its answer goes back
 * as the RPC's response, with the explanation as a trailer when the caller asked for one.
 */
export function createCheckHandler(run: CheckRunner) {
  return (
    call: ServerUnaryCall<CheckRequest, CheckResponse>,
    callback: sendUnaryData<CheckResponse>,
  ): void => {
    run(
      {
        request: call.request,
        answerBy: answerBy(call.getDeadline()),
        explain: explanationRequested(call),
      },
      (response, explanation) => {
        if (!explanation) return callback(null, response);
        const trailer = new Metadata();
        trailer.set(EXPLAIN_TRAILER_KEY, encodeExplanation(explanation.steps));
        callback(null, response, trailer);
      },
    );
  };
}
