import type { TestProject } from 'vitest/node';
import { type ServiceName, startWireMocks } from '#dev/local/wiremock-process.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    wiremock: Record<ServiceName, string>;
  }
}

/**
 * Starts the three WireMocks once for the whole run (free ports, the repo's mappings) and,
 * when TEST_DATABASE_URL is set, brings that server's schema up to date.
 */
export default async function setup(project: TestProject) {
  const testDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (testDatabaseUrl) {
    const db = createPostgresDatabase({ url: testDatabaseUrl, maxConnections: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  }
  const wiremocks = await startWireMocks({ payment: 0, inventory: 0, order: 0 });
  project.provide('wiremock', wiremocks.urls);
  return () => wiremocks.stop();
}
