/**
 * `npm run invoke -- <function> [event]`: runs one function's handler in this process on a
 * sample event (default: the first file in `functions/<function>/events/`; a bare name is looked
 * up there too), the Docker-free twin of `sam local invoke`. Prints the handler's answer as JSON.
 *
 * Services default to the local WireMocks (`npm start` or `docker compose up`) on
 * WIREMOCK_BASE_PORT (8081) and the next two, as `npm start` runs them, unless *_SERVICE_URL say;
 * the database to DATABASE_URL, else an embedded one in `.data/invoke` (`npm start` holds a
 * lock on its own `.data/pglite`; this holds one on its folder while it runs).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { DataFolderInUse, describeOwner, lockDataFolder } from '#dev/local/data-folder-lock.ts';
import { emulateLambdaRuntime, inInvocation } from '#dev/local/lambda-runtime.ts';
import { withLocalServiceUrls } from '#dev/local/service-urls.ts';
import { ConfigError } from '#lib/config.ts';

const [name, eventArg] = process.argv.slice(2);
const functions = readdirSync('functions', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** Says what is wrong, with no stack trace, and exits. */
function refuse(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

if (!name || !functions.includes(name)) {
  refuse(`usage: npm run invoke -- <${functions.join('|')}> [event.json]`, 2);
}

const eventsDir = path.join('functions', name, 'events');
const events = existsSync(eventsDir) ? readdirSync(eventsDir).sort() : [];
const eventFile = eventArg
  ? [eventArg, path.join(eventsDir, eventArg)].find((file) => existsSync(file))
  : events[0] && path.join(eventsDir, events[0]);
if (!eventFile) {
  refuse(
    `${eventArg ? `no event file ${eventArg}` : `no sample event for ${name}`}. ` +
      (events.length > 0
        ? `The events of ${name} (${eventsDir}/): ${events.join(', ')}`
        : `${eventsDir}/ holds none; give the path of a JSON event.`),
  );
}
let event: unknown;
try {
  event = JSON.parse(readFileSync(eventFile, 'utf8'));
} catch (error) {
  refuse(`cannot read the event ${eventFile}: ${(error as Error).message}`);
}

try {
  Object.assign(process.env, withLocalServiceUrls(process.env));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  refuse(error.message);
}
if (!process.env.DATABASE_URL && !process.env.DB_CLUSTER_ARN) {
  mkdirSync('.data', { recursive: true });
  process.env.PGLITE_DATA_DIR ??= '.data/invoke';
  try {
    if (!process.env.PGLITE_DATA_DIR.startsWith('memory://')) {
      lockDataFolder(process.env.PGLITE_DATA_DIR, 'npm run invoke');
    }
  } catch (error) {
    if (!(error instanceof DataFolderInUse)) throw error;
    refuse(
      `the data folder ${error.dataDir} is in use by ${describeOwner(error.owner)}; ` +
        'wait for it, or give this one its own: PGLITE_DATA_DIR=.data/other npm run invoke -- ...',
    );
  }
}

// The runtime's environment first: the logger reads it when `lib/` is first imported.
await emulateLambdaRuntime();
const { closeApp } = await import('#lib/app.ts');
const { handler } = (await import(`../functions/${name}/handler.ts`)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
try {
  const context = localContext(name);
  const result = await inInvocation(context, () => handler(event, context));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await closeApp();
}
