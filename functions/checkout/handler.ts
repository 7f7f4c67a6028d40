import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { databaseDeadline, workBudget } from '#lib/checkout/lease.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { checkoutIdSchema } from '#lib/checkout/request-schema.ts';
import { NotFoundError, ValidationError } from '#lib/errors.ts';
import { callerOf } from '#lib/http/caller.ts';
import { checkoutView, presentOutcome } from '#lib/http/checkout-presenter.ts';
import checkoutEventValidator from '#lib/http/generated/checkout-event-validator.js';
import { httpFunction, withJsonBody } from '#lib/http/http-function.ts';
import { readIdempotencyKey } from '#lib/http/idempotency-key.ts';
import { jsonResponse } from '#lib/http/responses.ts';

/** `POST /checkout/process`: validate, price, record (claiming the key), run the saga, answer. */
const processRoute = withJsonBody(async (event, context) => {
  const app = await getApp();
  const key = readIdempotencyKey(event, app.config.requireIdempotencyKey);
  const { cart, secrets, fingerprint } = parseCheckoutRequest(event.body);
  const caller = callerOf(event);
  const idempotency =
    key === undefined
      ? undefined
      : {
          key,
          caller,
          requestHash: await fingerprint(app.fingerprintKey),
          ttlHours: app.config.idempotencyTtlHours,
        };
  const worker = `request:${context.awsRequestId}`;
  const budget = workBudget(app.config.leaseMs, context.getRemainingTimeInMillis(), worker);
  return presentOutcome(await app.processCheckout({ cart, secrets, caller, idempotency }, budget));
}, checkoutEventValidator);

/** `GET /checkout/{id}`: the checkout's current state, without card data, to its caller only. */
const getRoute = async (event: APIGatewayProxyEvent, context: Context) => {
  const id = checkoutIdSchema.safeParse(event.pathParameters?.id);
  if (!id.success) {
    throw new ValidationError('The checkout id must be a UUID', [
      { path: 'id', message: 'must be a UUID' },
    ]);
  }
  const app = await getApp();
  // A paused cluster is waited for only as long as the answer still beats the function's end.
  const checkout = await app.readCheckout(
    id.data,
    databaseDeadline(context.getRemainingTimeInMillis()),
    callerOf(event),
  );
  // Another caller's checkout is answered as an unknown one: its existence is not revealed.
  if (!checkout) throw new NotFoundError('No checkout with this id');
  return jsonResponse(200, checkoutView(checkout));
};

export const handler = httpFunction(
  httpRouterHandler([
    { method: 'POST', path: '/checkout/process', handler: processRoute },
    { method: 'GET', path: '/checkout/{id}', handler: getRoute },
  ]),
);
