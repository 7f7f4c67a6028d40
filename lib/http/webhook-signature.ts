import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature of the payment service's webhooks, in its `X-Signature` header:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The time is signed with the
 * body, so a captured request cannot be replayed once it is older than the tolerance; the body is
 * signed as the bytes that came, never as re-serialized JSON (key order and spacing would differ).
 */

/**
 * The header it comes in (lower case, as the API's header normalizer and node give it); the
 * endpoint reads it from here and `npm run pay` sends it, so the two cannot drift apart.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'x-signature';

export type WebhookSignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** How far a signature's time may be from ours, either way (clock skew, delivery delay). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, t: string, rawBody: string): Buffer =>
  createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();

/** The header value that signs `rawBody` at `unixSeconds` (what the payment service sends). */
export function signWebhook(secret: string, rawBody: string, unixSeconds: number): string {
  const t = String(Math.trunc(unixSeconds));
  return `t=${t},v1=${hmac(secret, t, rawBody).toString('hex')}`;
}

/**
 * Whether `header` signs `rawBody` with `secret` at a time within `toleranceSeconds` of
 * `nowSeconds`. Several `v1` entries are accepted (the service signs with the old and the new
 * secret while one is rotated): one that matches is enough. Unknown keys (a future `v2`) are
 * ignored. Each comparison takes the same time whatever bytes differ (`timingSafeEqual`), so the
 * answer's timing tells nothing of the expected signature; nothing here throws.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): WebhookSignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  const entries = header.split(',').map((part) => {
    const at = part.indexOf('=');
    return at < 0 ? undefined : ([part.slice(0, at).trim(), part.slice(at + 1).trim()] as const);
  });
  if (entries.some((entry) => entry === undefined)) return { ok: false, reason: 'malformed' };
  const pairs = entries as (readonly [string, string])[];
  const times = pairs.filter(([key]) => key === 't').map(([, value]) => value);
  const signatures = pairs.filter(([key]) => key === 'v1').map(([, value]) => value);
  const t = times[0];
  if (times.length !== 1 || t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) {
    return { ok: false, reason: 'malformed' };
  }
  if (Math.abs(nowSeconds - Number(t)) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = hmac(secret, t, rawBody);
  const matches = signatures.map((signature) => {
    // Hex only: Buffer.from would drop what follows a bad character and compare a prefix.
    const given = /^[0-9a-fA-F]*$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
    return given?.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches.some(Boolean) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
