import type { Role } from './auth-file.ts';

/**
 * Who is calling, and with which credential. The credential is what revocation checks: a live connection
 * stays open only while the credential it logged in with is still current (auth-state.ts isCurrent).
 */
export type Credential =
  | { readonly scheme: 'device'; readonly hash: string }
  | { readonly scheme: 'token'; readonly id: string }
  | { readonly scheme: 'session'; readonly id: string; readonly passwordSetAt: string }
  | { readonly scheme: 'insecure' };

export interface Principal {
  readonly role: 'device' | Role;
  readonly name: string;
  readonly sensorId?: string;
  readonly credential?: Credential;
}

/** Rank of each role: a route that needs `operator` admits operators and admins. */
export const ROLE_RANK: Readonly<Record<Principal['role'], number>> = {
  device: 0,
  integration: 0,
  viewer: 1,
  operator: 2,
  admin: 3,
};
