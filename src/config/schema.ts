import * as z from 'zod';
import type { SchemaContext } from './fields.js';
import { authorizationSection } from './sections/authorization.js';
import { exchangeTarget, inboundSection } from './sections/inbound.js';
import { outboundSection } from './sections/outbound.js';
import { logSection, serverSection } from './sections/server.js';
import { spicedbSection } from './sections/spicedb.js';

// A configuration is parsed once per process. zod's default compiles a parser for each object
// schema on its first parse (with eval), which costs a start ~10 ms more than it saves.
z.config({ jitless: true });

/**
 * The whole configuration file. Each top-level key is one section with its own file in
 * sections/; every key is documented in docs/configuration.md.
 */
export const configSchema = (ctx: SchemaContext) =>
  z
    .strictObject({
      server: serverSection(),
      log: logSection(),
      inbound: inboundSection(ctx),
      outbound: outboundSection(ctx),
      spicedb: spicedbSection(ctx),
      authorization: authorizationSection(),
    })
    .refine((c) => c.authorization === undefined || c.spicedb !== undefined, {
      message: 'authorization needs a spicedb section (the SpiceDB to check permissions in)',
      path: ['spicedb'],
    })
    .superRefine((c, issue) => {
      // Inbound exchange uses the outbound token-exchange connection and must verify its answer.
      c.inbound.issuers.forEach((i, n) => {
        if (!i.exchange) return;
        if (!c.outbound)
          issue.addIssue({
            code: 'custom',
            path: ['inbound', 'issuers', n, 'exchange'],
            message: 'exchange needs outbound.tokenExchange (how to reach token-exchange)',
          });
        const target = exchangeTarget(i.exchange);
        if (target === undefined) return; // reported by the exchange schema itself
        // The token server is this very issuer (a same-realm exchange, e.g. Keycloak): its keys
        // verify the answer, checked for the target. Otherwise another issuer must accept it.
        const sameIssuer = c.outbound?.tokenExchange.issuer === i.issuer;
        const internal = c.inbound.issuers.some(
          (o) => o !== i && !o.exchange && o.audiences.includes(target),
        );
        if (!internal && !sameIssuer)
          issue.addIssue({
            code: 'custom',
            path: [
              'inbound',
              'issuers',
              n,
              'exchange',
              i.exchange.resource ? 'resource' : 'audience',
            ],
            message: `no other issuer accepts audience ${JSON.stringify(target)}: add token-exchange as an issuer so exchanged tokens can be verified`,
          });
      });
    });

export type Config = z.output<ReturnType<typeof configSchema>>;
