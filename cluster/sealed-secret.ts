import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Secrets a cluster keeps in Redis (webhook targets' signing secrets: cluster/shared-state.ts) sealed with a key
 * derived from `cluster.secret`, which every node holds and Redis does not: someone who reads Redis (a backup, a
 * replica, a stolen dump) does not learn them, and someone who can write to it cannot plant a target whose
 * secret the nodes would take.
 *
 * AES-256-GCM with a synthetic nonce (the first 12 bytes of an HMAC of the text under a second derived key): the
 * same text always seals to the same string, which the cluster's shared entries need (a node compares its copy
 * with Redis' to find what changed); different texts never share a nonce. What this reveals is only whether two
 * sealed secrets are equal. `purpose` binds a sealed text to its use (the additional data): one sealed for
 * another purpose does not open here.
 */
export interface SecretSeal {
  seal(text: string): string;
  /** the text, or undefined when `sealed` is not one this cluster's key sealed for this purpose */
  open(sealed: string): string | undefined;
}

const PREFIX = 'sealed.v1.';

export const isSealed = (text: string): boolean => text.startsWith(PREFIX);

export function secretSeal(clusterSecret: string, purpose: string): SecretSeal {
  const derive = (use: string) =>
    Buffer.from(hkdfSync('sha256', clusterSecret, 'ioc cluster sealed secrets', `${purpose} ${use}`, 32));
  const encryptionKey = derive('encryption');
  const nonceKey = derive('nonce');
  const aad = Buffer.from(purpose);
  const nonceOf = (text: string) => createHmac('sha256', nonceKey).update(text).digest().subarray(0, 12);
  return {
    seal(text) {
      const nonce = nonceOf(text);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, nonce);
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return `${PREFIX}${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    open(sealed) {
      if (!isSealed(sealed) || sealed.length > 16_384) return undefined;
      const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
      if (bytes.length < 28) return undefined;
      const nonce = bytes.subarray(0, 12);
      try {
        const decipher = createDecipheriv('aes-256-gcm', encryptionKey, nonce);
        decipher.setAAD(aad);
        decipher.setAuthTag(bytes.subarray(12, 28));
        const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
        // the nonce must be the text's own: a sealed text is exactly what seal() gives, nothing else opens
        return timingSafeEqual(nonce, nonceOf(text)) ? text : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
