import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { getApp } from '#lib/app.ts';
import { createSecretReader } from '#lib/clients/secrets.ts';
import { migrate } from '#lib/db/migrate.ts';
import { logger } from '#lib/observability/index.ts';

const readSecret = createSecretReader();
/** A database secret as RDS makes it: JSON with (at least) the user name and password. */
const runtimeUserSchema = z.object({ username: z.string(), password: z.string() });

/**
 * The `onEvent` handler of the migration custom resource (CDK `Provider` framework): applies
 * the pending SQL migrations on every Create and Update of the stack. Delete keeps the data.
 * Throwing fails the deployment, which CloudFormation then rolls back. With
 * `RUNTIME_DB_SECRET_ARN` it then (re)creates the runtime functions' own database user, which
 * may only read and write the application's tables.
 */
export const handler = async (event: CloudFormationCustomResourceEvent) => {
  const physicalResourceId = 'checkout-schema';
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
  const { db, config } = await getApp();
  const runtimeUser = config.runtimeDbSecretArn
    ? runtimeUserSchema.parse(JSON.parse(await readSecret(config.runtimeDbSecretArn)))
    : undefined;
  const applied = await migrate(db, undefined, { runtimeUser });
  logger.info('migrations applied', { applied, runtime_user: runtimeUser?.username ?? null });
  return { PhysicalResourceId: physicalResourceId, Data: { Applied: applied.join(',') || 'none' } };
};
