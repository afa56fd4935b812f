import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Secrets a cluster keeps in Redis (webhook targets' signing secrets: cluster/shared-state.ts) sealed with a key
 * derived from `cluster.secret`, which every node holds and Redis does not: someone who reads Redis (a backup, a
 * replica, a stolen dump) does not learn them, and someone who can write to it cannot plant an entry the nodes
 * would take, nor move a sealed secret into another entry or change the entry around it: the seal covers a
 * `context` (the rest of the entry, canonical), which must be the same to open.
 *
 * AES-256-GCM with a synthetic nonce (the first 12 bytes of an HMAC of context and text under a second derived
 * key): the same entry always seals to the same string, which the cluster's shared entries need (a node compares
 * its copy with Redis' to find what changed); different entries never share a nonce. What this reveals is only
 * whether two sealed entries are equal. `purpose` binds a sealed text to its use: one sealed for another purpose
 * does not open here.
 */
export interface SecretSeal {
  seal(text: string, context?: string): string;
  /** the text, or undefined unless `sealed` is exactly what this cluster's key sealed for this purpose and context */
  open(sealed: string, context?: string): string | undefined;
}

const PREFIX = 'sealed.v1.';

export const isSealed = (text: string): boolean => text.startsWith(PREFIX);

export function secretSeal(clusterSecret: string, purpose: string): SecretSeal {
  const derive = (use: string) =>
    Buffer.from(hkdfSync('sha256', clusterSecret, 'ioc cluster sealed secrets', `${purpose} ${use}`, 32));
  const encryptionKey = derive('encryption');
  const nonceKey = derive('nonce');
  // the context's length first, so no (context, text) pair reads as another
  const aadOf = (context: string) => Buffer.from(`${purpose}\u0000${context}`);
  const nonceOf = (context: string, text: string) =>
    createHmac('sha256', nonceKey).update(`${context.length}:${context}\u0000${text}`).digest().subarray(0, 12);
  return {
    seal(text, context = '') {
      const nonce = nonceOf(context, text);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, nonce);
      cipher.setAAD(aadOf(context));
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return `${PREFIX}${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    open(sealed, context = '') {
      if (!isSealed(sealed) || sealed.length > 16_384) return undefined;
      const encoded = sealed.slice(PREFIX.length);
      const bytes = Buffer.from(encoded, 'base64url');
      // Buffer skips characters it cannot read: only the exact encoding seal() wrote is taken
      if (bytes.length < 28 || bytes.toString('base64url') !== encoded) return undefined;
      const nonce = bytes.subarray(0, 12);
      try {
        const decipher = createDecipheriv('aes-256-gcm', encryptionKey, nonce);
        decipher.setAAD(aadOf(context));
        decipher.setAuthTag(bytes.subarray(12, 28));
        const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
        // the nonce must be the text's own: a sealed text is exactly what seal() gives, nothing else opens
        return timingSafeEqual(nonce, nonceOf(context, text)) ? text : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
