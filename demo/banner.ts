import type { Topology } from './topology.js';

/**
 * What `npm run demo -- --keep` prints: where the running topology is, the sidecars' ext_authz
 * addresses (so `jwtexchange check` can be pointed at them) and the vmctl commands.
 */
export function keepBanner(
  t: Pick<Topology, 'mode' | 'gatewayUrl' | 'sidecars'> & { delegation?: boolean },
): string {
  const x = 'npx jwtexchange check';
  return `
demo topology (mode ${t.mode}${t.delegation ? ', saga delegation' : ''}) is running
  gateway ingress (Envoy)            ${t.gatewayUrl}
  gateway sidecar, ext_authz         ${t.sidecars.gateway}
  vmcontroller sidecar, ext_authz    ${t.sidecars.vmcontroller}

Ask a sidecar what it decides, and why:
  ${x} --server ${t.sidecars.gateway} --explain --direction outbound --ext jwtexchange.audience=vmcontroller --ext jwtexchange.when-header=x-saga-id -H 'x-saga-id: s-1'
  ${x} --server ${t.sidecars.vmcontroller} --explain${t.delegation ? delegationCheck(x, t.sidecars.gateway) : ''}
Use the platform as a person would:
  npm run vmctl -- login --user cloud-teleport-aleksander.rykalin
  npm run vmctl -- namespace create demo --cluster cl0
  npm run vmctl -- namespace get <id>
Ctrl-C stops everything.
`;
}

/** The delegation route for saga-0, whose relations were never written: refused, and why. */
const delegationCheck = (x: string, gateway: string) => `
A delegation route (saga-0 has no relations in SpiceDB, so token-exchange refuses it):
  ${x} --server ${gateway} --explain --direction outbound --ext jwtexchange.audience=vmcontroller --ext jwtexchange.delegation=saga -H 'x-saga-id: saga-0'`;
