/** The Aurora cluster, secret and transaction the Data API tests address (never reached). */
export const CLUSTER = 'arn:aws:rds:eu-west-1:123456789012:cluster:checkout';
export const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout-db-AbCdEf';
export const TX = 'AQoDYXdzEJr//transaction-1';
