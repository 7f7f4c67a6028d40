import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { migrate } from '#lib/db/migrate.ts';
import { logger } from '#lib/observability/index.ts';

/**
 * The `onEvent` handler of the migration custom resource (CDK `Provider` framework): applies
 * the pending SQL migrations on every Create and Update of the stack. Delete keeps the data.
 * Throwing fails the deployment, which CloudFormation then rolls back.
 */
export const handler = async (event: CloudFormationCustomResourceEvent) => {
  const physicalResourceId = 'checkout-schema';
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
  const { db } = await getApp();
  const applied = await migrate(db);
  logger.info('migrations applied', { applied });
  return { PhysicalResourceId: physicalResourceId, Data: { Applied: applied.join(',') || 'none' } };
};
