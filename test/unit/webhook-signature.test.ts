import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '#lib/http/webhook-signature.ts';

/**
 * The payment webhooks' signature (`lib/http/webhook-signature.ts`): the header the service
 * sends, and what the endpoint accepts. The expected values are computed here with `createHmac`,
 * not through the module.
 */

const SECRET = 'whsec_test_secret';
const BODY =
  '{"event_id":"evt_1","type":"payment.paid","transactionId":"pix_c1","checkout_id":"c1"}';
const T = 1_765_000_000;
const hex = (secret: string, t: number, body: string) =>
  createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');

describe('signWebhook', () => {
  it('gives t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">', () => {
    expect(signWebhook(SECRET, BODY, T)).toBe(`t=${T},v1=${hex(SECRET, T, BODY)}`);
  });

  it('matches a vector computed elsewhere (Python hmac)', () => {
    expect(signWebhook('secret', '{"a":1}', 1_700_000_000)).toBe(
      't=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686',
    );
  });
});

describe('verifyWebhookSignature', () => {
  const header = `t=${T},v1=${hex(SECRET, T, BODY)}`;

  it('accepts the body as signed, within the tolerance either way', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, T)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 300)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, BODY, T - 300)).toEqual({ ok: true });
  });

  it('refuses a tampered body and a wrong secret as mismatch', () => {
    const tampered = BODY.replace('payment.paid', 'payment.refunded');
    expect(verifyWebhookSignature(SECRET, header, tampered, T)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyWebhookSignature('another secret', header, BODY, T)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a time more than 300 s off, late or early, as stale', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 301)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, T - 301)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 60, 30)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it.each([undefined, '', '  '])('calls the header %j missing', (missing) => {
    expect(verifyWebhookSignature(SECRET, missing, BODY, T)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it.each([
    'garbage',
    `v1=${hex(SECRET, T, BODY)}`,
    `t=${T}`,
    `t=soon,v1=${hex(SECRET, T, BODY)}`,
    `t=${T},t=${T},v1=${hex(SECRET, T, BODY)}`,
    `t=${T};v1=${hex(SECRET, T, BODY)}`,
  ])('calls %j malformed', (malformed) => {
    expect(verifyWebhookSignature(SECRET, malformed, BODY, T)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each([
    ['too short', hex(SECRET, T, BODY).slice(0, 62)],
    ['odd length', hex(SECRET, T, BODY).slice(0, 63)],
    ['too long', `${hex(SECRET, T, BODY)}00`],
    ['not hex', `${hex(SECRET, T, BODY).slice(0, 62)}zz`],
    ['empty', ''],
  ])('refuses a v1 that is %s as mismatch, without throwing', (_what, v1) => {
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${v1}`, BODY, T)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('accepts any of several v1 values (a secret being rotated) and ignores unknown keys', () => {
    const old = hex('the old secret', T, BODY);
    const current = hex(SECRET, T, BODY);
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${old},v1=${current}`, BODY, T)).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${current},v1=${old}`, BODY, T)).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature(SECRET, `v0=x, t=${T}, v2=abc, v1=${current}`, BODY, T)).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${old},v1=${old}`, BODY, T)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });
});
