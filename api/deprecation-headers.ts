import type { FastifyReply } from 'fastify';

/**
 * A client that used a deprecated name (a rule's `kind`, the workflow's `ruleKind`: docs/names.md) learns it
 * from the answer's headers: `Deprecation: true` and a `Warning: 299` with the message. The request itself
 * is served as if it had used the new name.
 */
export function noteDeprecation(reply: FastifyReply, message: string): void {
  reply.header('deprecation', 'true');
  reply.header('warning', `299 - "${message.replaceAll('"', "'")}"`);
}
