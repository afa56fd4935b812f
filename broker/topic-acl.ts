import type { Principal } from '../config/credentials.ts';
import { reject, type Rejection } from '../ingest/rejection.ts';
import { mayPublishIntegration, maySubscribeIntegration, type IntegrationRoots } from './integration-acl.ts';

/**
 * Who may publish and subscribe where, exactly (no fallback):
 * - a device publishes `ioc/{its kind}/{its id}/readings` and `.../status`, and `.../events` if it is a
 *   camera; only `status` may be retained; it subscribes only to `ioc/{its kind}/{its id}/errors`;
 * - integration accounts (role integration) publish and subscribe only under their sources' topic roots
 *   (broker/integration-acl.ts);
 * - viewer, operator and admin accounts publish nowhere (readings come from devices, alerts and
 *   errors from the platform) and subscribe to anything but the broker's `$SYS`, which is for admins.
 * A device's mistake under its own id (wrong kind, unknown channel, retained readings) is `explain`:
 * not stored, not forwarded, the reason on its errors topic, the connection kept. Everything else
 * refused is `deny`, which closes the connection (MQTT 3.1.1 has no other way to refuse a publish).
 */
export type PublishDecision =
  | { action: 'allow' }
  | { action: 'explain'; rejection: Rejection }
  | { action: 'deny'; reason: string };

export type SubscribeDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOW = { action: 'allow' } as const;

export function mayPublish(
  principal: Principal,
  topic: string,
  retain: boolean,
  kindOf: (sensorId: string) => string | undefined,
  rootsOf: IntegrationRoots = () => undefined,
): PublishDecision {
  if (principal.role === 'integration') return mayPublishIntegration(principal, topic, rootsOf);
  if (principal.role !== 'device') {
    return {
      action: 'deny',
      reason: `${principal.role} accounts do not publish (readings come from devices, alerts from the platform)`,
    };
  }
  const id = principal.sensorId ?? principal.name;
  const kind = kindOf(id);
  const levels = topic.split('/');
  if (!kind || levels.length !== 4 || levels[0] !== 'ioc' || levels[2] !== id || levels[3] === 'errors') {
    return {
      action: 'deny',
      reason:
        `device ${id} may publish only to ioc/${kind ?? '{kind}'}/${id}/{readings|status` +
        `${kind === 'camera' ? '|events' : ''}}`,
    };
  }
  const channel = levels[3]!;
  if (levels[1] !== kind) {
    return {
      action: 'explain',
      rejection: reject(
        'kind_mismatch',
        `sensor "${id}" is registered as kind ${kind}: publish under ioc/${kind}/${id}/`,
      ),
    };
  }
  if (channel !== 'readings' && channel !== 'status' && !(channel === 'events' && kind === 'camera')) {
    const allowed = kind === 'camera' ? 'readings, status or events' : 'readings or status (events are for cameras)';
    return {
      action: 'explain',
      rejection: reject('topic_invalid', `unknown channel "${channel.slice(0, 40)}": use ${allowed}`),
    };
  }
  if (retain && channel !== 'status') {
    return {
      action: 'explain',
      rejection: reject('retain_not_allowed', `only status may be retained; send ${channel} with retain false`),
    };
  }
  return ALLOW;
}

export function maySubscribe(
  principal: Principal,
  filter: string,
  kindOf: (sensorId: string) => string | undefined,
  rootsOf: IntegrationRoots = () => undefined,
): SubscribeDecision {
  if (principal.role === 'integration') return maySubscribeIntegration(principal, filter, rootsOf);
  if (principal.role !== 'device') {
    // the broker's $SYS topics name every connected client and its subscriptions: admins only
    if (principal.role !== 'admin' && /^(\$share\/[^/]*\/)?\$SYS(\/|$)/.test(filter)) {
      return { allowed: false, reason: '$SYS (who is connected and what they subscribe to) is for admin accounts' };
    }
    return { allowed: true };
  }
  const id = principal.sensorId ?? principal.name;
  const own = `ioc/${kindOf(id) ?? '{kind}'}/${id}/errors`;
  if (filter === own) return { allowed: true };
  return { allowed: false, reason: `device ${id} may subscribe only to ${own}` };
}
