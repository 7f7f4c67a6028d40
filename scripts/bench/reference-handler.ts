/**
 * The cold-start yardstick: a bare Middy handler with a Data API client created at module
 * scope, nothing else. `npm run cold-start` measures it beside the real functions, bundled the
 * same way, so their ratios can be read against it on whatever machine runs the benchmark.
 */
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import middy from '@middy/core';

const client = new RDSDataClient({});

export const handler = middy().handler(() =>
  client.send(
    new ExecuteStatementCommand({ resourceArn: 'arn', secretArn: 'arn', sql: 'select 1' }),
  ),
);
