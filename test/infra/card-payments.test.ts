import { App, type CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config.ts';
import {
  METRICS_NAMESPACE,
  OLDEST_AUTHORIZATION_METRIC,
  SERVICE_NAME,
} from '#lib/observability/constants.ts';
import { stackPropsFromContext } from '../../infra/app.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import {
  actionsOf,
  logicalIdOf,
  nagAcknowledgements,
  policyStatements,
  render,
  type Synthesized,
  synth,
} from './synth.ts';

/**
 * Cards as payment services take them: how the checkout function is told to take them
 * (`PAYMENT_CAPTURE`, `ACCEPT_RAW_CARDS`, `MIN_INSTALLMENT_AMOUNT`), the key a CPF/CNPJ enters
 * the fingerprint with (`FINGERPRINT_SECRET_ARN`, the checkout function's alone), and the alarm
 * on the oldest open authorization, which expires.
 */
let dev: Synthesized;
let prod: Synthesized;
beforeAll(() => {
  dev = synth();
  prod = synth({ stage: 'prod' });
});

/** Template JSON, as loosely typed as `Template.toJSON` gives it. */
type Json = ReturnType<Synthesized['template']['toJSON']>;
const resourcesOf = (x: Synthesized) =>
  x.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string }
  >;
const variablesOf = (x: Synthesized, name: FunctionName) =>
  resourcesOf(x)[x.stack.getLogicalId(x.stack.functions[name].node.defaultChild as CfnElement)]
    ?.Properties.Environment.Variables as Record<string, unknown>;
const roleIdOf = (x: Synthesized, name: FunctionName) =>
  logicalIdOf(x.stack, x.stack.functions[name].role?.roleArn ?? '');
const secretIdOf = (x: Synthesized) => {
  const secret = x.stack.fingerprintKey?.secret;
  if (!secret) throw new Error('no fingerprint key');
  return logicalIdOf(x.stack, secret.secretArn);
};
const alarmOf = (x: Synthesized, suffix: string) => {
  const name = `${x.stack.stackName}-${suffix}`;
  const alarm = Object.values(resourcesOf(x))
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties)
    .find((a) => a.AlarmName === name);
  if (!alarm) throw new Error(`no alarm ${name}`);
  return alarm;
};

const PAYMENT_SETTINGS = ['PAYMENT_CAPTURE', 'ACCEPT_RAW_CARDS', 'MIN_INSTALLMENT_AMOUNT'];
const OTHERS = FUNCTIONS.filter((name) => name !== 'checkout');

/** What lib/config.ts makes of the checkout function's payment settings, at its start. */
const paymentsAtStart = (variables: Record<string, unknown>) => {
  const env: Record<string, string> = {
    PAYMENT_SERVICE_URL: 'https://payments.internal.shop',
    INVENTORY_SERVICE_URL: 'https://inventory.internal.shop',
    ORDER_SERVICE_URL: 'https://orders.internal.shop',
  };
  for (const name of PAYMENT_SETTINGS) {
    if (variables[name] !== undefined) env[name] = String(variables[name]);
  }
  return loadConfig(env).payments;
};

describe('how the checkout function takes cards', () => {
  it('authorizes and captures after the order, and takes raw cards, on dev by default', () => {
    const variables = variablesOf(dev, 'checkout');
    expect(variables).toMatchObject({ PAYMENT_CAPTURE: 'after_order', ACCEPT_RAW_CARDS: 'true' });
    // Unset: lib's own 5.00 BRL.
    expect(variables).not.toHaveProperty('MIN_INSTALLMENT_AMOUNT');
    expect(paymentsAtStart(variables)).toEqual({
      flow: 'after_order',
      acceptRawCards: true,
      minInstallmentCents: 500,
    });
  });

  it('takes tokens only on prod: ACCEPT_RAW_CARDS false', () => {
    const variables = variablesOf(prod, 'checkout');
    expect(variables).toMatchObject({ PAYMENT_CAPTURE: 'after_order', ACCEPT_RAW_CARDS: 'false' });
    expect(paymentsAtStart(variables).acceptRawCards).toBe(false);
  });

  it('follows -c paymentCapture, -c acceptRawCards and -c minInstallmentAmount', () => {
    const told = synth({
      paymentCapture: 'immediate',
      acceptRawCards: 'false',
      minInstallmentAmount: '12.5',
    });
    const variables = variablesOf(told, 'checkout');
    expect(variables).toMatchObject({
      PAYMENT_CAPTURE: 'immediate',
      ACCEPT_RAW_CARDS: 'false',
      MIN_INSTALLMENT_AMOUNT: '12.5',
    });
    expect(paymentsAtStart(variables)).toEqual({
      flow: 'immediate',
      acceptRawCards: false,
      minInstallmentCents: 1250,
    });
    // cdk.json gives numbers and booleans rather than strings.
    const fromJson = variablesOf(
      synth({ acceptRawCards: false, minInstallmentAmount: 10 }),
      'checkout',
    );
    expect(fromJson).toMatchObject({ ACCEPT_RAW_CARDS: 'false', MIN_INSTALLMENT_AMOUNT: '10' });
    expect(
      variablesOf(synth({ stage: 'prod', paymentCapture: 'immediate' }), 'checkout'),
    ).toMatchObject({ PAYMENT_CAPTURE: 'immediate', ACCEPT_RAW_CARDS: 'false' });
  });

  it.each(OTHERS)('gives %s none of them: later steps follow the flow on the row', (name) => {
    for (const x of [dev, prod]) {
      const variables = variablesOf(x, name);
      expect(Object.keys(variables).filter((k) => PAYMENT_SETTINGS.includes(k))).toEqual([]);
    }
  });

  it('refuses raw cards on prod at synth', () => {
    expect(() => synth({ stage: 'prod', acceptRawCards: 'true' })).toThrow(
      /acceptRawCards: must be false on the prod stage: raw card numbers put the whole deployment in PCI DSS scope/,
    );
  });

  it('refuses an unknown paymentCapture, a malformed acceptRawCards or minInstallmentAmount at synth, naming the setting', () => {
    expect(() => synth({ paymentCapture: 'later' })).toThrow(
      'context paymentCapture: expected one of after_order, immediate, got later',
    );
    expect(() => synth({ paymentCapture: 'AFTER_ORDER' })).toThrow(/context paymentCapture/);
    expect(() => synth({ acceptRawCards: 'no' })).toThrow(
      'context acceptRawCards: expected true or false, got no',
    );
    for (const bad of ['5.001', '5,00', '-1', 'abc', '12345678', 'R$5']) {
      expect(() => synth({ minInstallmentAmount: bad }), bad).toThrow(
        `context minInstallmentAmount: expected an amount in BRL such as 5.00 (at most 2 decimals), got ${bad}`,
      );
    }
  });

  it('accepts and refuses the same values as lib/config.ts, so a deploy never ships a function that will not start', () => {
    const props = (context: Record<string, unknown>) => stackPropsFromContext(new App({ context }));
    const env = (name: string, value: string) => ({
      PAYMENT_SERVICE_URL: 'https://payments.internal.shop',
      INVENTORY_SERVICE_URL: 'https://inventory.internal.shop',
      ORDER_SERVICE_URL: 'https://orders.internal.shop',
      [name]: value,
    });
    for (const good of ['after_order', 'immediate']) {
      expect(props({ paymentCapture: good }).paymentCapture).toBe(good);
      expect(loadConfig(env('PAYMENT_CAPTURE', good)).payments.flow).toBe(good);
    }
    for (const bad of ['later', 'capture', 'Immediate']) {
      expect(() => props({ paymentCapture: bad }), bad).toThrow(/context paymentCapture/);
      expect(() => loadConfig(env('PAYMENT_CAPTURE', bad)), bad).toThrow(/PAYMENT_CAPTURE/);
    }
    for (const good of ['5', '5.00', '12.5', '9999999.99']) {
      expect(props({ minInstallmentAmount: good }).minInstallmentAmount).toBe(good);
      expect(() => loadConfig(env('MIN_INSTALLMENT_AMOUNT', good)), good).not.toThrow();
    }
    for (const bad of ['5.001', '5,00', '-1', '12345678', ' 5']) {
      expect(() => props({ minInstallmentAmount: bad }), bad).toThrow(/minInstallmentAmount/);
      expect(() => loadConfig(env('MIN_INSTALLMENT_AMOUNT', bad)), bad).toThrow(
        /MIN_INSTALLMENT_AMOUNT/,
      );
    }
  });
});

describe('the fingerprint key', () => {
  const secretOf = (x: Synthesized) => resourcesOf(x)[secretIdOf(x)];

  it('is a generated secret without a fixed name, under the default key like the database’s', () => {
    const secret = secretOf(dev);
    expect(secret?.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret?.Properties).not.toHaveProperty('Name');
    expect(secret?.Properties).not.toHaveProperty('KmsKeyId');
    expect(secret?.Properties).not.toHaveProperty('SecretString');
    expect(secret?.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
  });

  it('goes with a dev stack, and on prod is kept on deletion and replacement but not when its own creation rolls back', () => {
    expect(secretOf(dev)).toMatchObject({
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    // RETAIN_ON_UPDATE_OR_DELETE: a failed first deploy leaves no orphan and can be run again.
    expect(secretOf(prod)).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is named to the checkout function alone, as FINGERPRINT_SECRET_ARN', () => {
    for (const x of [dev, prod]) {
      expect(variablesOf(x, 'checkout').FINGERPRINT_SECRET_ARN).toEqual({ Ref: secretIdOf(x) });
      for (const name of OTHERS) {
        expect(variablesOf(x, name), name).not.toHaveProperty('FINGERPRINT_SECRET_ARN');
      }
    }
  });

  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])(
    'may be read by the checkout function alone, GetSecretValue only; no other function’s role policy mentions it (%s)',
    (_, of) => {
      const x = of();
      const secretId = secretIdOf(x);
      const mentions = (value: unknown) => JSON.stringify(value).includes(`"${secretId}"`);
      const policies = Object.entries(resourcesOf(x)).filter(
        ([, r]) => r.Type === 'AWS::IAM::Policy' && mentions(r.Properties.PolicyDocument),
      );
      expect(policies).toHaveLength(1);
      expect(policies[0]?.[1].Properties.Roles).toEqual([{ Ref: roleIdOf(x, 'checkout') }]);
      const statements = policyStatements(x.template).filter(({ statement }) =>
        mentions(statement.Resource),
      );
      expect(statements.map(({ statement }) => [statement.Effect, actionsOf(statement)])).toEqual([
        ['Allow', ['secretsmanager:GetSecretValue']],
      ]);
      // Nor by any other means: no resource policy, no inline role policy, no managed policy.
      for (const [id, r] of Object.entries(resourcesOf(x))) {
        if (r.Type === 'AWS::IAM::Policy' || id === secretId) continue;
        if (
          [
            'AWS::IAM::Role',
            'AWS::IAM::ManagedPolicy',
            'AWS::SecretsManager::ResourcePolicy',
          ].includes(r.Type)
        ) {
          expect(mentions(r.Properties), id).toBe(false);
        }
      }
    },
  );

  it('acknowledges cdk-nag’s rotation finding with the reason it is rotated by hand', () => {
    const acks = nagAcknowledgements(dev.app).filter(
      (ack) => ack.rule === 'AwsSolutions-SMG4' && ack.path.includes('/FingerprintKey/'),
    );
    expect(acks).toHaveLength(1);
    expect(acks[0]?.reason).toMatch(/IDEMPOTENCY_TTL_HOURS/);
    expect(acks[0]?.reason).toMatch(/docs\/operations\.md/);
  });

  it('is not made on localstack, where the functions key documents with lib’s local value', () => {
    const local = synth({ target: 'localstack' });
    expect(local.stack.fingerprintKey).toBeUndefined();
    expect(variablesOf(local, 'checkout')).not.toHaveProperty('FINGERPRINT_SECRET_ARN');
    expect(variablesOf(local, 'checkout')).toMatchObject({
      PAYMENT_CAPTURE: 'after_order',
      ACCEPT_RAW_CARDS: 'true',
    });
  });
});

describe('the oldest-open-authorization alarm', () => {
  const topicRef = (x: Synthesized) => ({
    Ref: logicalIdOf(x.stack, x.stack.alarmTopic.topic.topicArn),
  });

  it('fires on the age lib emits when an authorization is open longer than 96 h, and tells the topic when it clears', () => {
    const alarm = alarmOf(dev, 'oldest-open-authorization');
    expect(alarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: OLDEST_AUTHORIZATION_METRIC,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 96 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef(dev)],
      OKActions: [topicRef(dev)],
    });
    expect(alarm.AlarmDescription).toMatch(/96 h.*Runbook: docs\/operations\.md/);
  });

  it('treats missing data as the oldest-unfinished alarm does: the last run’s value stands', () => {
    const unfinished = alarmOf(dev, 'oldest-unfinished');
    expect(alarmOf(dev, 'oldest-open-authorization').TreatMissingData).toBe(
      unfinished.TreatMissingData,
    );
    expect(unfinished.TreatMissingData).toBe('ignore');
    // Same source: written by recovery, same namespace, dimension and statistic.
    for (const key of ['Namespace', 'Dimensions', 'Statistic', 'Period']) {
      expect(alarmOf(dev, 'oldest-open-authorization')[key], key).toEqual(unfinished[key]);
    }
  });

  it('follows -c authorizationAlarmHours: threshold = hours × 3600', () => {
    expect(
      alarmOf(synth({ authorizationAlarmHours: '48' }), 'oldest-open-authorization'),
    ).toMatchObject({
      Threshold: 48 * 3600,
    });
    expect(
      alarmOf(synth({ authorizationAlarmHours: 120 }), 'oldest-open-authorization').Threshold,
    ).toBe(120 * 3600);
    expect(alarmOf(prod, 'oldest-open-authorization').AlarmName).toBe(
      'CheckoutCommerce-prod-oldest-open-authorization',
    );
  });

  it('refuses at synth an age that is not a whole number of hours, or one that would fire after the authorization expired', () => {
    for (const bad of ['0', '-4', 'abc', '2.5']) {
      expect(() => synth({ authorizationAlarmHours: bad }), bad).toThrow(
        `context authorizationAlarmHours: expected an integer of at least 1, got ${bad}`,
      );
    }
    // 7 days are 168 h; recovery reports at least hourly, so 167 h could be seen only at 168.
    expect(() => synth({ authorizationAlarmHours: '167' })).toThrow(
      /authorizationAlarmHours: 167 h plus the recovery sweep's interval \(1 hour\) must stay under the 168 h a card-not-present authorization lasts/,
    );
    expect(() => synth({ authorizationAlarmHours: '200' })).toThrow(
      /authorizationAlarmHours: 200 h/,
    );
    expect(() => synth({ authorizationAlarmHours: '166' })).not.toThrow();
    // A daily sweep leaves less room.
    expect(() =>
      synth({ authorizationAlarmHours: '150', recoveryIntervalMinutes: '1440' }),
    ).toThrow(/150 h plus the recovery sweep's interval \(1 day\)/);
    expect(() =>
      synth({ authorizationAlarmHours: '96', recoveryIntervalMinutes: '1440' }),
    ).not.toThrow();
  });

  it('is drawn on the dashboard with its threshold, beside the oldest unfinished age', () => {
    const [[, dashboard] = []] = Object.entries(resourcesOf(dev)).filter(
      ([, r]) => r.Type === 'AWS::CloudWatch::Dashboard',
    );
    const body = JSON.parse(render(dashboard?.Properties.DashboardBody)) as {
      widgets: { properties: { title?: string; metrics?: unknown[][]; annotations?: unknown } }[];
    };
    const widgets = body.widgets.filter((w) =>
      (w.properties.metrics ?? []).some((m) => m.includes(OLDEST_AUTHORIZATION_METRIC)),
    );
    expect(widgets).toHaveLength(1);
    expect(widgets[0]?.properties.title).toMatch(/open card authorization/);
    expect(widgets[0]?.properties.metrics?.[0]?.slice(0, 4)).toEqual([
      METRICS_NAMESPACE,
      OLDEST_AUTHORIZATION_METRIC,
      'service',
      SERVICE_NAME,
    ]);
    expect(widgets[0]?.properties.annotations).toEqual({
      horizontal: [expect.objectContaining({ value: 96 * 3600, label: 'alarm' })],
    });
    // The alarm is in the dashboard's status widget too.
    expect(JSON.stringify(body)).toContain(
      logicalIdOf(dev.stack, dev.stack.alarms.oldestOpenAuthorization.alarmArn),
    );
  });
});
