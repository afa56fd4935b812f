import type { Principal } from '../config/credentials.ts';
import { isRejection, parseDeviceTopic } from '../ingest/parse-topic.ts';

/**
 * Who may publish and subscribe where. Devices publish only readings, status and events under their own
 * id, and subscribe only under it (to read their errors). Operators and admins read everything and
 * publish nothing under `ioc/` (readings come from devices; alerts from the platform).
 */
export type Decision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: Decision = { allowed: true };
const DEVICE_PUBLISH_CHANNELS = new Set(['readings', 'status', 'events']);

export function mayPublish(principal: Principal, topic: string, insecure: boolean): Decision {
  if (topic.startsWith('$SYS')) return { allowed: false, reason: '$SYS topics are reserved for the broker' };
  if (insecure) return ALLOW;
  if (principal.role === 'device') {
    // Its own id in the third level is what matters; a wrong kind or channel under it is answered on its
    // errors topic (a mistake to explain), anything else closes the connection (MQTT 3.1.1 has no other no).
    const parsed = parseDeviceTopic(topic);
    if (!isRejection(parsed)) {
      return parsed.sensorId === principal.sensorId && parsed.channel !== 'errors' ? ALLOW : deviceDenied(principal);
    }
    const levels = topic.split('/');
    if (levels.length !== 4 || levels[0] !== 'ioc' || levels[2] !== principal.sensorId || levels[3] === 'errors') {
      return deviceDenied(principal);
    }
    return ALLOW;
  }
  if (topic === 'ioc' || topic.startsWith('ioc/')) {
    return { allowed: false, reason: `${principal.role} accounts do not publish under ioc/` };
  }
  return ALLOW;
}

function deviceDenied(principal: Principal): Decision {
  return { allowed: false, reason: `device ${principal.sensorId} may publish only to ioc/{kind}/${principal.sensorId}/{${[...DEVICE_PUBLISH_CHANNELS].join('|')}}` };
}

export function maySubscribe(principal: Principal, filter: string, insecure: boolean, kindOf: (sensorId: string) => string | undefined): Decision {
  if (insecure || principal.role !== 'device') return ALLOW;
  const kind = kindOf(principal.sensorId!);
  const own = `ioc/${kind}/${principal.sensorId}/`;
  if (kind && filter.startsWith(own)) return ALLOW;
  return { allowed: false, reason: `device ${principal.sensorId} may subscribe only under ${own}` };
}
