import { getApp } from '#lib/app.ts';
import { httpFunction } from '#lib/http/http-function.ts';
import { jsonResponse } from '#lib/http/responses.ts';

/** `GET /health`: 200 when the database answers within a short timeout, 503 otherwise. */
export const handler = httpFunction(async () => {
  const healthy = await getApp().then(
    (app) => app.checkHealth(),
    () => false,
  );
  return healthy
    ? jsonResponse(200, { status: 'ok', checks: { database: 'ok' } })
    : jsonResponse(503, { status: 'unavailable', checks: { database: 'error' } });
});
