import type { DatabaseConfig } from '#lib/config.ts';
import type { Database } from './database.ts';

/**
 * Opens the driver the configuration names. Each driver is imported only when chosen, so a
 * Lambda bundle never loads the embedded PGlite and the local server never loads the AWS SDK.
 */
export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.driver) {
    case 'postgres': {
      const { createPostgresDatabase } = await import('./drivers/postgres.ts');
      return createPostgresDatabase({ url: config.url });
    }
    case 'pglite': {
      const { createPgliteDatabase } = await import('./drivers/pglite.ts');
      return createPgliteDatabase(config.dataDir);
    }
    case 'rds-data': {
      const { createRdsDataDatabase } = await import('./drivers/rds-data.ts');
      const { clusterArn, secretArn, database, resumeBudgetMs } = config;
      return createRdsDataDatabase({
        clusterArn,
        secretArn,
        database,
        retry: { budgetMs: resumeBudgetMs },
      });
    }
  }
}
