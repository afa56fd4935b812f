import type { Principal } from '../config/credentials.ts';

/**
 * The MQTT clientId names a session: its subscriptions, queued messages, in-flight QoS 2 and will.
 * Whoever connects with a clientId takes that session over (the previous connection is closed), so a
 * clientId must belong to the account that logged in: a device's is its sensor id or starts with
 * `<id>-` or `<id>:`; any other account's is its name or starts with `<name>-` or `<name>:`. The
 * separator keeps account `op` out of `operator-1`'s sessions.
 */
export function clientIdProblem(principal: Principal, clientId: string, maxBytes: number): string | undefined {
  if (Buffer.byteLength(clientId, 'utf8') > maxBytes) return `clientId longer than ${maxBytes} bytes`;
  if (/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(clientId)) return 'clientId contains a control character or invalid UTF-8';
  const owner = principal.role === 'device' ? principal.sensorId ?? principal.name : principal.name;
  if (clientId === owner || clientId.startsWith(`${owner}-`) || clientId.startsWith(`${owner}:`)) return undefined;
  return `clientId must be "${owner}" or start with "${owner}-" or "${owner}:"`;
}
