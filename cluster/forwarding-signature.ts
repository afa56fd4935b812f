import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Node-to-node trust for forwarded alert actions (docs/cluster.md, docs/security.md "Cluster mode"): the node an
 * operator reached signs what it passes to the alert's owner with a key derived from `cluster.secret`, which every
 * node of the cluster holds and nobody else. The owner believes `X-IOC-Forwarded-By` only with a valid signature:
 * over the method, the path, the body's SHA-256, the time, the sending and the receiving node, a nonce and the
 * client's address. A signature lives `FORWARD_VALIDITY_MS` either side of the owner's clock and is taken once
 * (the nonce); naming the receiving node keeps it from being replayed to another node.
 */
export const FORWARD_HEADERS = {
  by: 'x-ioc-forwarded-by',
  to: 'x-ioc-forwarded-to',
  at: 'x-ioc-forwarded-at',
  nonce: 'x-ioc-forwarded-nonce',
  body: 'x-ioc-forwarded-body-sha256',
  signature: 'x-ioc-forwarded-signature',
} as const;

/** how far the sender's time may be from the receiver's: clocks of a cluster agree (NTP) far better than this */
export const FORWARD_VALIDITY_MS = 30_000;

export type ForwardRefusal =
  | 'malformed' // a forwarding header present, the others missing or not of their form
  | 'expired' // its time is outside the window
  | 'wrong_node' // signed for another node
  | 'bad_signature'
  | 'replayed' // this nonce was taken already
  | 'body_mismatch'; // the body is not the one signed

export interface ForwardClaims {
  readonly method: string;
  readonly path: string;
  readonly bodySha256: string;
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly nonce: string;
  readonly clientAddress: string;
}

/** The forwarding key: the cluster secret is never used as it is, so another use of it cannot sign forwards. */
export function forwardingKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'ioc-cluster', 'forwarded alert action v1', 32));
}

export function bodySha256(body: string | Buffer | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

function sign(key: Buffer, c: ForwardClaims): string {
  const material = [
    'ioc-forward-v1',
    c.method.toUpperCase(),
    c.path,
    c.bodySha256,
    String(c.at),
    c.from,
    c.to,
    c.nonce,
    c.clientAddress,
  ].join('\n');
  return createHmac('sha256', key).update(material).digest('hex');
}

/** The headers a forwarded request carries (beside the client's own credentials and `X-Forwarded-For`). */
export function signedForwardHeaders(
  key: Buffer,
  c: Omit<ForwardClaims, 'nonce' | 'bodySha256'> & { readonly body: string | undefined },
): Record<string, string> {
  const claims: ForwardClaims = { ...c, nonce: randomBytes(16).toString('hex'), bodySha256: bodySha256(c.body) };
  return {
    [FORWARD_HEADERS.by]: claims.from,
    [FORWARD_HEADERS.to]: claims.to,
    [FORWARD_HEADERS.at]: String(claims.at),
    [FORWARD_HEADERS.nonce]: claims.nonce,
    [FORWARD_HEADERS.body]: claims.bodySha256,
    [FORWARD_HEADERS.signature]: sign(key, claims),
  };
}

/** Whether a request claims to be forwarded by a node: any of the forwarding headers makes it so. */
export function claimsForwarded(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  return Object.values(FORWARD_HEADERS).some((name) => headers[name] !== undefined);
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export type ForwardCheck =
  | { readonly ok: true; readonly from: string; readonly bodySha256: string }
  | { readonly ok: false; readonly reason: ForwardRefusal };

export interface ForwardVerifierOptions {
  readonly key: Buffer;
  /** this node: a request signed for another is refused */
  readonly nodeId: string;
  readonly now: () => number;
  readonly validityMs?: number;
  /** nonces remembered at once (only validly signed requests add one, so only a key holder fills it) */
  readonly maxNonces?: number;
}

/** Checks the forwarding headers of one request; a request it accepts is remembered, so the same one fails next. */
export function createForwardVerifier(o: ForwardVerifierOptions) {
  const validity = o.validityMs ?? FORWARD_VALIDITY_MS;
  const maxNonces = o.maxNonces ?? 100_000;
  // nonce -> when it can be forgotten (its request is expired by then); insertion order is about expiry order
  const seen = new Map<string, number>();
  const forget = (now: number) => {
    for (const [nonce, until] of seen) {
      if (until > now && seen.size < maxNonces) break;
      seen.delete(nonce);
    }
  };
  return {
    check(
      headers: Readonly<Record<string, string | string[] | undefined>>,
      method: string,
      path: string,
      clientAddress: string,
    ): ForwardCheck {
      const get = (name: string) => {
        const v = headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      const from = get(FORWARD_HEADERS.by);
      const to = get(FORWARD_HEADERS.to);
      const atText = get(FORWARD_HEADERS.at);
      const nonce = get(FORWARD_HEADERS.nonce);
      const body = get(FORWARD_HEADERS.body);
      const signature = get(FORWARD_HEADERS.signature);
      if (
        !from ||
        !NODE_ID.test(from) ||
        !to ||
        !NODE_ID.test(to) ||
        !atText ||
        !/^\d{1,16}$/.test(atText) ||
        !nonce ||
        !HEX32.test(nonce) ||
        !body ||
        !HEX64.test(body) ||
        !signature ||
        !HEX64.test(signature)
      )
        return { ok: false, reason: 'malformed' };
      const at = Number(atText);
      const expected = sign(o.key, { method, path, bodySha256: body, at, from, to, nonce, clientAddress });
      // the signature first: an outsider learns nothing about times, nodes or nonces from the answers
      if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex')))
        return { ok: false, reason: 'bad_signature' };
      if (to !== o.nodeId) return { ok: false, reason: 'wrong_node' };
      const now = o.now();
      if (Math.abs(now - at) > validity) return { ok: false, reason: 'expired' };
      forget(now);
      if (seen.has(nonce)) return { ok: false, reason: 'replayed' };
      seen.set(nonce, at + validity);
      return { ok: true, from, bodySha256: body };
    },
  };
}

export type ForwardVerifier = ReturnType<typeof createForwardVerifier>;
