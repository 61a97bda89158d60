import { JwtxError, type ReasonCode } from '../errors.js';
import { SpicedbFailure } from '../spicedb/failure.js';
import { isRefusal } from '../tokens/delegated-token-cache.js';
import { TokenRequestError } from '../tokens/token-errors.js';
import { deny, type Decision } from './decision.js';

/**
 * The peer a phase was waiting on when something was thrown: the same failure (token-exchange
 * refused, say) means a different reason on each of them. Undefined: no peer (a plain
 * JwtxError or a bug).
 */
export type Peer = 'token-exchange' | 'service-token' | 'delegation' | 'spicedb';

export interface Failure {
  readonly reason: ReasonCode;
  /** For the operator's log; callers see CALLER_MESSAGES[reason]. */
  readonly message: string;
}

const failure = (reason: ReasonCode, message: string): Failure => ({ reason, message });

/** What each peer's failures mean. undefined: not a failure of that peer (a bug: rethrown). */
const BY_PEER: Readonly<Record<Peer, (err: unknown) => Failure | undefined>> = {
  // RFC 8693 exchange of a caller's token (inbound): whatever stops it is token-exchange's doing
  // or a misconfiguration, never the caller's fault, except an explicit refusal.
  'token-exchange': (err) =>
    err instanceof TokenRequestError && err.kind === 'refused'
      ? failure('token_exchange_refused', err.message)
      : failure('token_exchange_unavailable', (err as Error).message),
  'service-token': (err) => {
    if (!(err instanceof TokenRequestError)) return undefined;
    if (err.kind === 'refused') return failure('service_token_refused', err.message);
    if (err.kind === 'invalid') {
      return failure('service_token_invalid', `token not injected: ${err.message}`);
    }
    return failure('service_token_unavailable', `no valid service token: ${err.message}`);
  },
  delegation: (err) => {
    if (!(err instanceof TokenRequestError)) return undefined;
    if (isRefusal(err)) return failure('delegation_refused', err.message);
    return failure('delegation_unavailable', `no delegated token: ${err.message}`);
  },
  // The caller learns the kind of failure; the operator's log gets the endpoint and details.
  spicedb: (err) =>
    failure(
      'spicedb_unavailable',
      `SpiceDB check failed (${err instanceof SpicedbFailure ? err.kind : 'other'})`,
    ),
};

/**
 * The one mapping of anything thrown to a reason. A JwtxError already knows its reason; other
 * failures mean what they mean for the peer the phase waited on. Undefined for what no table
 * knows (a bug): the caller rethrows it and the handler denies it as `internal`, logged.
 */
export function failureOf(err: unknown, peer?: Peer): Failure | undefined {
  if (err instanceof JwtxError) return failure(err.code, err.message);
  return peer ? BY_PEER[peer](err) : undefined;
}

/** failureOf as a denial; rethrows what no table knows (see failureOf). */
export function denialOf(err: unknown, peer?: Peer): Decision {
  const f = failureOf(err, peer);
  if (!f) throw err;
  return deny(f.reason, f.message);
}
