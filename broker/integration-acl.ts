import type { Principal } from '../config/credentials.ts';
import type { PublishDecision, SubscribeDecision } from './topic-acl.ts';

/**
 * Where an integration account (role `integration`: ChirpStack, Frigate, an NVR) may publish and
 * subscribe: under the topic roots of the sources configured for it (`application/` for ChirpStack,
 * Frigate's topic prefix), and nowhere else: not a device's `ioc/...` topics, not `$SYS`. An account of
 * that role that no source names has no topic at all. Retained messages are allowed under its roots
 * (Frigate keeps `frigate/available` retained), which never reach ingest's device topics.
 */
export type IntegrationRoots = (account: string) => readonly string[] | undefined;

const within = (topic: string, roots: readonly string[]): boolean => roots.some((root) => topic.startsWith(`${root}/`));

export function mayPublishIntegration(principal: Principal, topic: string, rootsOf: IntegrationRoots): PublishDecision {
  const roots = rootsOf(principal.name) ?? [];
  if (within(topic, roots)) return { action: 'allow' };
  const where = roots.length
    ? roots.map((r) => `${r}/...`).join(' or ')
    : 'nowhere (no integration source names this account)';
  return { action: 'deny', reason: `integration account ${principal.name} may publish only to ${where}` };
}

export function maySubscribeIntegration(
  principal: Principal,
  filter: string,
  rootsOf: IntegrationRoots,
): SubscribeDecision {
  const roots = rootsOf(principal.name) ?? [];
  if (within(filter, roots)) return { allowed: true };
  return {
    allowed: false,
    reason:
      `integration account ${principal.name} may subscribe only under ` +
      `${roots.map((r) => `${r}/`).join(', ') || 'no topic'}`,
  };
}
