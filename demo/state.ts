import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where `npm run demo -- --keep` tells vmctl how to reach the running topology. */
export const STATE_FILE = path.resolve('.dev/demo.json');
const TOKEN_FILE = path.resolve('.dev/vmctl-token');

export interface DemoState {
  readonly mode: string;
  readonly gatewayUrl: string;
  readonly authUrl: string;
  /** ext_authz addresses of the sidecars (jwtexchange check --server). */
  readonly sidecars?: { readonly gateway: string; readonly vmcontroller: string };
}

export function writeState(state: DemoState): void {
  mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}

export function readState(): DemoState {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DemoState;
  } catch {
    throw new Error('no running demo: start one with `npm run demo -- --keep` in another terminal');
  }
}

export const saveToken = (token: string) => writeFileSync(TOKEN_FILE, token, { mode: 0o600 });

export function loadToken(): string {
  try {
    return readFileSync(TOKEN_FILE, 'utf8').trim();
  } catch {
    throw new Error('not logged in: run `npm run vmctl -- login --user <id>` first');
  }
}
