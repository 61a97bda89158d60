import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import type { Call, UnaryCallback } from '../grpc/calls.js';
import {
  encodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
} from '../envoy/explanation-trailer.js';
import type { CheckRunner } from './check-runner.js';
import { answerBy } from './deadline.js';

/** Asked for with call metadata, which Envoy's ext_authz client never sets from a request. */
function explanationRequested(call: Call<CheckRequest>): boolean {
  const v = call.header(EXPLAIN_REQUEST_KEY);
  return v === 'true' || v === '1';
}

/**
 * The gRPC handler for envoy.service.auth.v3.Authorization/Check: the RPC's request and
 * deadline (Envoy's grpc-timeout) go to the check runner (check-runner.ts); its answer goes back
 * as the RPC's response, with the explanation as a trailer when the caller asked for one.
 */
export function createCheckHandler(run: CheckRunner) {
  return (call: Call<CheckRequest>, callback: UnaryCallback<CheckResponse>): void => {
    run(
      {
        request: call.request,
        answerBy: answerBy(call.deadline),
        explain: explanationRequested(call),
      },
      (response, explanation) => {
        if (!explanation) return callback(null, response);
        callback(null, response, {
          [EXPLAIN_TRAILER_KEY]: encodeExplanation(explanation.steps),
        });
      },
    );
  };
}
