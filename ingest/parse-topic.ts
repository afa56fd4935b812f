import { ID_PATTERN } from '../config/city-config.ts';
import { reject, type Rejection } from './rejection.ts';

export const CHANNELS = ['readings', 'status', 'events', 'errors'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface DeviceTopic {
  readonly kind: string;
  readonly sensorId: string;
  readonly channel: Channel;
}

/**
 * Valid topics parsed so far: a device publishes to the same few topics all day, and every publish is
 * checked by the ACL and parsed by ingest. Bounded (emptied when full), and only valid topics are kept.
 */
const parsedTopics = new Map<string, DeviceTopic>();
const MAX_PARSED_TOPICS = 100_000;

/** `ioc/{kind}/{sensorId}/{channel}`: exactly four levels, no empty or wildcard level. */
export function parseDeviceTopic(topic: string): DeviceTopic | Rejection {
  const known = parsedTopics.get(topic);
  if (known) return known;
  const parsed = parseTopicLevels(topic);
  if (!isRejection(parsed)) {
    if (parsedTopics.size >= MAX_PARSED_TOPICS) parsedTopics.clear();
    parsedTopics.set(topic, parsed);
  }
  return parsed;
}

function parseTopicLevels(topic: string): DeviceTopic | Rejection {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'ioc') {
    return reject('topic_invalid', `topic "${truncate(topic)}" is not ioc/{kind}/{sensorId}/{readings|status|events}`);
  }
  const [, kind, sensorId, channel] = parts as [string, string, string, string];
  if (!ID_PATTERN.test(kind) || !ID_PATTERN.test(sensorId)) {
    return reject('topic_invalid', `topic "${truncate(topic)}" has an invalid kind or sensor id level`);
  }
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    return reject('topic_invalid', `unknown channel "${truncate(channel)}": use readings, status or events`);
  }
  return Object.freeze({ kind, sensorId, channel: channel as Channel });
}

export function deviceTopic(kind: string, sensorId: string, channel: Channel): string {
  return `ioc/${kind}/${sensorId}/${channel}`;
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

export function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
