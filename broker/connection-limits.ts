import type { ConnectionReport, RemoteConnections } from '../cluster/shared-broker-limits.ts';
import { addressKey } from '../core/address-key.ts';

/**
 * Live connections per source address, IPv6 by its /64 (one host holds 2^64 addresses of it), counted when the
 * socket opens, before any byte is read, so sockets that never log in count too; and per account (counted once
 * authenticated). A connection that takes over its own session (same clientId) does not count twice.
 * In cluster mode `remote` adds what the other nodes last reported (cluster/shared-broker-limits.ts), and
 * `report` is what this node tells them.
 */
export interface ConnectionBounds {
  readonly connectionsPerAccount: number;
  readonly connectionsPerAddress: number;
}

export class ConnectionLimits {
  private readonly byAddress = new Map<string, number>();
  private readonly byAccount = new Map<string, Map<object, string>>();

  constructor(
    private readonly bounds: ConnectionBounds,
    private readonly remote?: RemoteConnections,
  ) {}

  /** false: one socket too many from this address; the caller closes it */
  openSocket(address: string): boolean {
    const key = addressKey(address);
    const n = this.byAddress.get(key) ?? 0;
    if (n + (this.remote?.sockets(key) ?? 0) >= this.bounds.connectionsPerAddress) return false;
    this.byAddress.set(key, n + 1);
    return true;
  }

  closeSocket(address: string): void {
    const key = addressKey(address);
    const n = (this.byAddress.get(key) ?? 1) - 1;
    if (n <= 0) this.byAddress.delete(key);
    else this.byAddress.set(key, n);
  }

  /** Registers `connection` for `account` unless that makes one too many; false when refused. */
  admit(account: string, connection: object, clientId: string): boolean {
    const live = this.byAccount.get(account) ?? new Map<object, string>();
    let others = 0;
    for (const id of live.values()) if (id !== clientId) others++;
    if (others + (this.remote?.connections(account, clientId) ?? 0) >= this.bounds.connectionsPerAccount) {
      return false;
    }
    live.set(connection, clientId);
    this.byAccount.set(account, live);
    return true;
  }

  release(account: string, connection: object): void {
    const live = this.byAccount.get(account);
    if (!live) return;
    live.delete(connection);
    if (live.size === 0) this.byAccount.delete(account);
  }

  accountConnections(account: string): number {
    return this.byAccount.get(account)?.size ?? 0;
  }

  /**
   * What the other nodes need to count this node's share: sockets of each address holding at least
   * `addressFloor`, and the connections per client id of each account holding at least `accountFloor`. What
   * is under a floor is not sent (a fleet's devices, one connection each, would be every second), so the
   * cluster may admit up to `floor - 1` more per other node than the limit.
   */
  report(addressFloor: number, accountFloor: number): ConnectionReport {
    const addresses: Array<[string, number]> = [];
    for (const [key, n] of this.byAddress) if (n >= addressFloor) addresses.push([key, n]);
    const accounts: Array<[string, Record<string, number>]> = [];
    for (const [account, live] of this.byAccount) {
      if (live.size < accountFloor) continue;
      const ids: Record<string, number> = Object.create(null);
      for (const id of live.values()) ids[id] = (ids[id] ?? 0) + 1;
      accounts.push([account, ids]);
    }
    return { addresses, accounts };
  }
}
