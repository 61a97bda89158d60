import type { DirectionCheck } from '../check/decide.js';
import { authenticatePhase } from '../check/inbound/authenticate.js';
import { authorizePhase } from '../check/inbound/authorize.js';
import { exchangePhase } from '../check/inbound/exchange.js';
import { exemptPhase } from '../check/inbound/exempt.js';
import { identityHeadersPhase } from '../check/inbound/identity-headers.js';
import { inboundCheck } from '../check/inbound/inbound-check.js';
import { injectDelegatedTokenPhase } from '../check/outbound/inject-delegated.js';
import { injectServiceTokenPhase } from '../check/outbound/inject-token.js';
import { outboundWithoutTokens } from '../check/outbound/outbound-check.js';
import { createPipeline, type Phase, type PhaseObserver } from '../check/pipeline.js';
import type { CompiledRule } from '../config/rules.js';
import type { AuthorizationConfig } from '../config/sections/authorization.js';
import type { InboundMode } from '../check/inbound/inbound-check.js';
import type { Logger } from '../log.js';
import type { PermissionChecker } from '../spicedb/permission-checker.js';
import type { Inbound } from './inbound-setup.js';
import type { OutboundTokens } from './outbound-setup.js';

/** SpiceDB authorization (docs/authorization.md): the compiled rules and the cached checker. */
export interface AuthorizationParts {
  readonly config: AuthorizationConfig;
  readonly rules: readonly CompiledRule[];
  readonly checker: PermissionChecker;
  readonly logger: Logger;
}

export interface CheckParts {
  readonly inboundMode: InboundMode;
  readonly inbound: Inbound;
  readonly authorization: AuthorizationParts | undefined;
  readonly outbound: OutboundTokens | undefined;
  readonly observe: PhaseObserver;
}

/**
 * Every phase of a check, in order, for both directions: the one place to read what a check does
 * (like Authorino's Evaluate()). The parts were built from config at start; phases only read them.
 */
export function checkDirections(parts: CheckParts): {
  inbound: DirectionCheck;
  outbound: DirectionCheck;
} {
  const { inbound, authorization: authz, outbound } = parts;
  const inboundPhases: Phase[] = [
    exemptPhase,
    authenticatePhase(inbound.verifier, inbound.verifiedCache, inbound.observeVerifiedCache),
    ...(inbound.exchange ? [exchangePhase(inbound.exchange)] : []),
    ...(authz
      ? [
          authorizePhase({
            rules: authz.rules,
            defaultDecision: authz.config.default,
            subjects: authz.config.subjects,
            zedTokenHeader: authz.config.zedTokenHeader,
            checker: authz.checker,
            logger: authz.logger,
          }),
        ]
      : []),
    identityHeadersPhase,
  ];
  const inboundPipeline = createPipeline(inboundPhases, 'allowed', parts.observe);
  if (!outbound) {
    return {
      inbound: inboundCheck(inboundPipeline, parts.inboundMode),
      outbound: outboundWithoutTokens,
    };
  }
  const outboundPipeline = createPipeline(
    [
      injectDelegatedTokenPhase(outbound.allowlist, outbound.delegated, outbound.sagaIdHeader),
      injectServiceTokenPhase(outbound.allowlist, outbound.serviceTokens),
    ],
    'injected',
    parts.observe,
  );
  return {
    inbound: inboundCheck(inboundPipeline, parts.inboundMode),
    outbound: (ctx, explain) => outboundPipeline.run(ctx, explain),
  };
}
