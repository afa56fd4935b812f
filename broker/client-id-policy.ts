import type { Principal } from '../config/credentials.ts';

/**
 * The MQTT clientId names a session: its subscriptions, queued messages, in-flight QoS 2 and will.
 * Whoever connects with a clientId takes that session over (the previous connection is closed), so a
 * clientId must belong to the principal that logged in. A clientId that is a sensor id, or starts with
 * one followed by `-` or `:`, belongs to that sensor's device (the longest such sensor id wins, so
 * `air-ngomon-1` is air-ngomon's, not a sensor `air`'s) and to nobody else. Any other clientId belongs to
 * the account it is named after: `<name>`, `<name>-...` or `<name>:...`. So no account (a viewer named
 * `air`, say) can take over a device's session, and the separator keeps account `op` out of `operator-1`'s.
 */
export function clientIdProblem(
  principal: Principal,
  clientId: string,
  maxBytes: number,
  isSensor: (id: string) => boolean = () => false,
): string | undefined {
  if (Buffer.byteLength(clientId, 'utf8') > maxBytes) return `clientId longer than ${maxBytes} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(clientId))
    return 'clientId contains a control character or invalid UTF-8';
  const sensor = sensorOwning(clientId, isSensor);
  if (principal.role === 'device') {
    const own = principal.sensorId ?? principal.name;
    if (sensor === own || (sensor === undefined && isOwn(clientId, own))) return undefined;
    return `clientId must be "${own}" or start with "${own}-" or "${own}:"`;
  }
  if (sensor !== undefined) return `clientId "${clientId.slice(0, 64)}" belongs to the device ${sensor}`;
  if (isOwn(clientId, principal.name)) return undefined;
  return `clientId must be "${principal.name}" or start with "${principal.name}-" or "${principal.name}:"`;
}

const isOwn = (clientId: string, owner: string): boolean =>
  clientId === owner || clientId.startsWith(`${owner}-`) || clientId.startsWith(`${owner}:`);

/** The longest sensor id the clientId is, or starts with before a `-` or `:`. */
function sensorOwning(clientId: string, isSensor: (id: string) => boolean): string | undefined {
  if (isSensor(clientId)) return clientId;
  for (let i = clientId.length - 1; i > 0; i--) {
    const c = clientId[i];
    if ((c === '-' || c === ':') && isSensor(clientId.slice(0, i))) return clientId.slice(0, i);
  }
  return undefined;
}

/**
 * Connection and session limits count per principal, devices and accounts apart (a same-named account shares nothing).
 */
export function limitKey(principal: Principal): string {
  return principal.role === 'device' ? `device:${principal.sensorId ?? principal.name}` : `account:${principal.name}`;
}
