import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { createCheckoutApp } from '../../infra/app.ts';
import type { CheckoutStack } from '../../infra/checkout-stack.ts';

/** cdk.json's context (the feature flags), which the CLI passes to the app and tests must too. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface Synthesized {
  app: App;
  stack: CheckoutStack;
  template: Template;
  /** The cloud assembly's folder (assets included). */
  outdir: string;
}

/**
 * Synthesizes the app exactly as `cdk synth` does (cdk.json's feature flags, the same context parsing, cdk-nag attached, so
 * any unacknowledged finding throws here) into a temporary folder. `bundle: false` skips esbuild
 * (the CLI's `--exclusively` mechanism) for tests that only read the template.
 */
export function synth(context: Record<string, unknown> = {}, { bundle = false } = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'checkout-cdk-'));
  const { app, stack } = createCheckoutApp({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      ...context,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  return { app, stack, template: Template.fromStack(stack), outdir };
}

/** `{ Ref }` / `{ Fn::GetAtt }` of a construct's CloudFormation resource, as the template has it. */
export function logicalIdOf(stack: CheckoutStack, token: string): string {
  const resolved = stack.resolve(token) as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = resolved.Ref ?? resolved['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(resolved)}`);
  return id;
}

/** `Fn::Join` rendered with stand-ins for the pseudo parameters, other references by logical id. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': 'us-east-1',
    'AWS::AccountId': '123456789012',
  };
  if (typeof v.Ref === 'string') return pseudo[v.Ref] ?? `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every `AWS::IAM::Policy`, with the policy's logical id. */
export function policyStatements(
  template: Template,
): { policy: string; statement: PolicyStatement }[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }
  >;
  return Object.entries(policies).flatMap(([policy, { Properties }]) =>
    Properties.PolicyDocument.Statement.map((statement) => ({ policy, statement })),
  );
}

export const actionsOf = (s: PolicyStatement) => [s.Action].flat();

/** cdk-nag's findings on the app, as `RULE at construct path`: what would fail `cdk synth`. */
export function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.map(
    (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
  );
}

/** Every cdk-nag acknowledgement under `root`: the construct it sits on, the rule, the reason. */
export function nagAcknowledgements(root: IConstruct) {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
          path: construct.node.path,
          rule: rule.replace(/^annotation::/i, ''),
          reason,
        })),
      )
      .filter((ack) => ack.rule.startsWith('AwsSolutions-')),
  );
}

/**
 * The cdk-nag tests every synthesized variant gets: no finding left, and every acknowledgement on
 * the construct it is about (never the app or the whole stack) with a reason worth reading.
 */
export function describeCdkNag(synthesized: () => Synthesized): void {
  describe('cdk-nag AwsSolutions', () => {
    it('leaves no unacknowledged finding', () => {
      expect(nagFindings(synthesized().app)).toEqual([]);
    });

    it('acknowledges each rule next to its resource, with a reason', () => {
      const { app, stack } = synthesized();
      const acks = nagAcknowledgements(app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect([app.node.path, stack.node.path], ack.rule).not.toContain(ack.path);
        expect(ack.reason.length, `${ack.rule} at ${ack.path}`).toBeGreaterThan(60);
      }
    });
  });
}
