import type { Logger } from 'pino';
import { addressKey } from '../core/address-key.ts';
import type { Clock } from '../core/clock.ts';
import type { RemotePenalties } from '../cluster/shared-broker-limits.ts';
import type { LimitsConfig } from '../config/limits-config.ts';
import { AbusePenalties, type Penalty } from './abuse-penalty.ts';
import type { RefusalLog } from './refusal-log.ts';

/**
 * The broker's side of abuse penalties (abuse-penalty.ts): `penalize` when a client is disconnected as
 * abusive, `refusal` at CONNECT, checked before the password is verified so that a device reconnecting in
 * a loop costs no hash. Every refusal is counted in ioc_mqtt_refused_total{reason="penalty"}; the log says
 * once when a penalty starts and once, at its first refused CONNECT, per period (no flood).
 */
export interface ConnectPenalty {
  /** the reason to refuse this CONNECT (CONNACK 3), or undefined */
  refusal(account: string | undefined, address: string | undefined): string | undefined;
  penalize(account: string, address: string | undefined): void;
}

/** `shared`: cluster mode, penalties started on any node hold on every node (cluster/shared-broker-limits.ts) */
export function createConnectPenalty(
  limits: LimitsConfig,
  clock: Clock,
  refusals: RefusalLog,
  logger: Logger,
  shared?: RemotePenalties,
): ConnectPenalty {
  const penalties = new AbusePenalties(
    { baseMs: limits.abusePenaltySeconds * 1000, maxMs: limits.abusePenaltyMaxSeconds * 1000 },
    clock,
  );
  shared?.follow((key, remainingMs, ms) => penalties.adopt(key, remainingMs, ms));
  const keys = (account: string | undefined, address: string | undefined): string[] => [
    ...(account !== undefined ? [`account\u0000${account}`] : []),
    // by the address's /64 for IPv6: a host penalised must not come back from the next address of its prefix
    ...(limits.abusePenaltyByAddress && address !== undefined ? [`address\u0000${addressKey(address)}`] : []),
  ];
  const describe = (p: Penalty) => `${Math.round(p.ms / 1000)} s, until ${new Date(p.until).toISOString()}`;
  return {
    refusal(account, address) {
      for (const key of keys(account, address)) {
        const p = penalties.active(key);
        if (!p) continue;
        refusals.count('penalty');
        const who = key.startsWith('account') ? `account ${account}` : `address ${address}`;
        if (p.refused++ === 0) {
          logger.warn(
            {
              reason: 'penalty',
              account: account?.slice(0, 64),
              address,
              penaltyMs: p.ms,
              until: new Date(p.until).toISOString(),
            },
            `MQTT refused: ${who} was disconnected as abusive and is refused at CONNECT for ${describe(p)}`,
          );
        }
        return `${who} was disconnected as abusive: try again after ${new Date(p.until).toISOString()}`;
      }
      return undefined;
    },
    penalize(account, address) {
      for (const key of keys(account, address)) {
        const p = penalties.punish(key);
        shared?.share(key, p.ms, p.ms);
        logger.warn(
          { reason: 'abusive', account: account.slice(0, 64), address, penaltyMs: p.ms },
          `MQTT penalty: ${key.startsWith('account') ? `account ${account}` : `address ${address}`} refused ` +
            `at CONNECT for ${describe(p)}`,
        );
      }
    },
  };
}
