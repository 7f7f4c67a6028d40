/**
 * `npm run invoke -- <function> [event.json]`: runs one function's handler in this process on
 * a sample event (default: the first file in `functions/<function>/events/`), the Docker-free
 * twin of `sam local invoke`. Prints the handler's answer as JSON.
 *
 * Services default to the local WireMocks (`npm start` or `docker compose up`) on 8081–8083;
 * the database to DATABASE_URL, else an embedded one in `.data/invoke` (`npm start` holds a
 * lock on its own `.data/pglite`).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { closeApp } from '#lib/app.ts';

const [name, eventArg] = process.argv.slice(2);
const functions = readdirSync('functions', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

if (!name || !functions.includes(name)) {
  console.error(`usage: npm run invoke -- <${functions.join('|')}> [event.json]`);
  process.exit(2);
}

process.env.PAYMENT_SERVICE_URL ??= 'http://127.0.0.1:8081';
process.env.INVENTORY_SERVICE_URL ??= 'http://127.0.0.1:8082';
process.env.ORDER_SERVICE_URL ??= 'http://127.0.0.1:8083';
if (!process.env.DATABASE_URL && !process.env.DB_CLUSTER_ARN) {
  mkdirSync('.data', { recursive: true });
  process.env.PGLITE_DATA_DIR ??= '.data/invoke';
}

const eventsDir = path.join('functions', name, 'events');
const eventFile = eventArg ?? path.join(eventsDir, readdirSync(eventsDir).sort()[0] ?? '');
const event = JSON.parse(readFileSync(eventFile, 'utf8'));

const { handler } = (await import(`../functions/${name}/handler.ts`)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
try {
  const result = await handler(event, localContext(name));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await closeApp();
}
