import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import { canonicalJson } from '../../core/entry-diff.ts';
import { webhookTargetSchema, type WebhookTarget } from '../../config/webhook-config.ts';

/**
 * Webhook targets an admin adds at run time (POST /api/webhooks/targets), beside those of the platform config
 * (`webhooks:`, fixed at start). Kept in `<dataDir>/webhook-targets.json` (0600: it holds each target's signing
 * secret, which the API never shows). In a cluster they are the cluster's (cluster/shared-state.ts): a target
 * added on one node is delivered to by every node, each sending the events of the alerts it owns.
 */
export const storedWebhookTargetSchema = z
  .object({
    target: webhookTargetSchema,
    createdBy: z.string(),
    createdAt: z.number(),
  })
  .strict();
export type StoredWebhookTarget = z.infer<typeof storedWebhookTargetSchema>;
const fileSchema = z.object({ version: z.literal(1), targets: z.array(storedWebhookTargetSchema) }).strict();

const MAX_TARGETS = 100;

/**
 * Why a target may not be added at run time (the API, or another node through Redis), beyond the schema; the
 * config's own webhooks are not held to this. `allowPrivate: true` lets every node post from inside the city
 * network: only `security.allowPrivateWebhookTargets` may open that to the API. Credentials in the URL would be
 * a second secret sent around and stored in plain sight of `url`; the signature is the target's credential.
 */
export function runTimeTargetRefusal(target: WebhookTarget, privateAllowed: boolean): string | undefined {
  if (target.allowPrivate && !privateAllowed)
    return (
      'allowPrivate: a target added through the API may not reach private addresses unless the platform ' +
      'config sets security.allowPrivateWebhookTargets: true'
    );
  const url = new URL(target.url);
  if (url.username !== '' || url.password !== '')
    return 'url: credentials in the URL are not accepted (the receiver checks X-IOC-Signature)';
  return undefined;
}

export type WebhookTargetChange = { added: WebhookTarget } | { removed: string };

export interface WebhookTargetStoreLogger {
  warn(obj: object, msg?: string): void;
}

export class WebhookTargetStore {
  private readonly file: string | undefined;
  private readonly targets = new Map<string, StoredWebhookTarget>();
  private readonly changeListeners: Array<(change: WebhookTargetChange) => void> = [];
  private readonly localListeners: Array<() => void> = [];

  constructor(
    dataDir: string | undefined,
    private readonly clock: Clock,
    /** the ids of the config's targets: taken, and not removable here */
    private readonly configured: readonly string[],
    private readonly logger?: WebhookTargetStoreLogger,
    /** security.allowPrivateWebhookTargets: targets added at run time may set allowPrivate */
    private readonly privateAllowed = false,
  ) {
    this.file = dataDir === undefined ? undefined : join(dataDir, 'webhook-targets.json');
    if (!this.file || !existsSync(this.file)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = fileSchema.safeParse(raw);
    // a damaged file must not stop the platform: its targets are not delivered to, and the log says so
    if (!parsed.success) logger?.warn({ file: this.file }, 'webhook targets file unreadable; starting without them');
    for (const t of parsed.success ? parsed.data.targets : []) {
      // written before the rule, or with the setting on since: not delivered to while it is off
      const reason = runTimeTargetRefusal(t.target, privateAllowed);
      if (reason) logger?.warn({ target: t.target.id, reason }, 'a stored webhook target is refused here: skipped');
      else this.targets.set(t.target.id, t);
    }
  }

  /** the targets added at run time, secrets included (the dispatcher signs with them) */
  list(): WebhookTarget[] {
    return [...this.targets.values()].map((t) => t.target);
  }

  /** without secrets: what the API shows */
  describe(): Array<Omit<StoredWebhookTarget, 'target'> & { target: Omit<WebhookTarget, 'secret'> }> {
    return [...this.targets.values()].map(({ target: { secret: _secret, ...rest }, ...meta }) => ({
      ...meta,
      target: rest,
    }));
  }

  /** Validates (DomainError invalid naming the field; conflict for an id taken) and stores. */
  add(raw: unknown, by: string): WebhookTarget {
    const parsed = webhookTargetSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.join('.') || 'target';
      // never the input itself in the message: it may hold the secret
      throw new DomainError('invalid', 'invalid_webhook_target', `${where}: ${issue.message}`);
    }
    const target = parsed.data;
    const refusal = runTimeTargetRefusal(target, this.privateAllowed);
    if (refusal) throw new DomainError('invalid', 'invalid_webhook_target', refusal);
    if (this.configured.includes(target.id) || this.targets.has(target.id))
      throw new DomainError('conflict', 'webhook_target_exists', `a webhook target "${target.id}" exists already`);
    if (this.targets.size >= MAX_TARGETS)
      throw new DomainError('conflict', 'too_many_webhook_targets', `at most ${MAX_TARGETS} webhook targets`);
    this.targets.set(target.id, { target, createdBy: by, createdAt: this.clock.now() });
    this.save();
    this.announce([{ added: target }]);
    for (const l of this.localListeners) l();
    return target;
  }

  remove(id: string): void {
    if (this.configured.includes(id))
      throw new DomainError(
        'conflict',
        'webhook_target_configured',
        `webhook target "${id}" is in the platform config: remove it there`,
      );
    if (!this.targets.delete(id)) throw new DomainError('not_found', 'webhook_target_not_found', `no webhook "${id}"`);
    this.save();
    this.announce([{ removed: id }]);
    for (const l of this.localListeners) l();
  }

  /** the dispatcher follows these: every target added or removed, here or on another node */
  onTargetsChanged(listener: (change: WebhookTargetChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** id -> canonical JSON, secret included (what a cluster shares) */
  entries(): Map<string, string> {
    return new Map([...this.targets].map(([id, t]) => [id, canonicalJson(t)]));
  }

  /** called after a change made on this node */
  onChange(listener: () => void): void {
    this.localListeners.push(listener);
  }

  /** takes another node's changes, already checked (cluster/shared-state.ts) */
  applyShared(changes: ReadonlyMap<string, StoredWebhookTarget | null>): void {
    const heard: WebhookTargetChange[] = [];
    for (const [id, stored] of changes) {
      // this node's config has a target of that id: the config's stays (the other node's is not sent from here)
      if (this.configured.includes(id)) {
        this.logger?.warn({ target: id }, 'a webhook target from the cluster has the id of a configured one: skipped');
        continue;
      }
      // what this node's own API would refuse is refused from another node too (a hostile or older Redis copy)
      const refusal = stored && runTimeTargetRefusal(stored.target, this.privateAllowed);
      const full = stored && !this.targets.has(id) && this.targets.size >= MAX_TARGETS;
      if (refusal || full) {
        this.logger?.warn(
          { target: id.slice(0, 64), reason: refusal ?? `at most ${MAX_TARGETS} webhook targets` },
          'a webhook target from the cluster is refused here: skipped',
        );
        continue;
      }
      if (this.targets.delete(id)) heard.push({ removed: id });
      if (stored === null) continue;
      this.targets.set(id, stored);
      heard.push({ added: stored.target });
    }
    this.save();
    this.announce(heard);
  }

  private announce(changes: readonly WebhookTargetChange[]): void {
    for (const change of changes) for (const l of this.changeListeners) l(change);
  }

  private save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ version: 1, targets: [...this.targets.values()] }, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
