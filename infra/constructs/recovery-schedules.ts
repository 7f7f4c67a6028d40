import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface RecoverySchedulesProps {
  /** Also the group's name, so that `aws scheduler list-schedules --group-name` finds it. */
  readonly groupName: string;
  /**
   * The recovery function's ARN, known before the function exists (built from its physical
   * name): the function is itself one of the schedule makers, and its own `functionArn` in its
   * environment would be a circular reference.
   */
  readonly recoveryFunctionArn: string;
}

/**
 * Where the one-off recovery schedules live (design: cheap at rest). A checkout left
 * `incomplete` gets an `at(...)` schedule in this group, deleted after it runs, that invokes the
 * recovery function once its lease has ended; nothing polls. The schedules are made at run time
 * by the functions (`lib/clients/recovery-scheduler.ts`), not by this stack: this construct
 * holds the group, the role EventBridge Scheduler assumes to invoke recovery, and the grants.
 */
export class RecoverySchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  /** Assumed by EventBridge Scheduler for schedules of this group only; invokes recovery only. */
  readonly invokerRole: iam.Role;
  private readonly recoveryFunctionArn: string;
  private readonly groupName: string;

  constructor(scope: Construct, id: string, props: RecoverySchedulesProps) {
    super(scope, id);
    this.recoveryFunctionArn = props.recoveryFunctionArn;
    this.groupName = props.groupName;
    this.group = new scheduler.ScheduleGroup(this, 'Group', {
      scheduleGroupName: props.groupName,
      // Its schedules are transient (each deletes itself once run): nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Confused-deputy guard: only schedules of this account's group may use the role.
    this.invokerRole = new iam.Role(this, 'InvokerRole', {
      description: 'Assumed by EventBridge Scheduler to run the one-off recovery schedules',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: {
          'aws:SourceAccount': this.group.env.account,
          'aws:SourceArn': this.group.scheduleGroupArn,
        },
      }),
    });
  }

  /**
   * Lets the scheduler role invoke `recovery` (the function itself, not its versions). Called
   * once the function exists; its ARN must be the one given as `recoveryFunctionArn`.
   */
  allowInvoking(recovery: lambda.IFunction): void {
    iam.Grant.addToPrincipal({
      grantee: this.invokerRole,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [recovery.functionArn],
    });
  }

  /**
   * Lets `fn` create schedules in this group and hand them the invoker role, nothing more
   * (each schedule deletes itself after it runs), and gives it the settings
   * `lib/config.ts` reads.
   */
  allowScheduling(fn: lambda.Function): void {
    const role = fn.role;
    if (!role) throw new Error(`${fn.node.path} has no role`);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['scheduler:CreateSchedule'],
      resourceArns: [this.scheduleArn('*')],
    });
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['iam:PassRole'],
      resourceArns: [this.invokerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    for (const [key, value] of Object.entries(this.environment)) fn.addEnvironment(key, value);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.nagArn('*')}]`,
      reason:
        'Each checkout left incomplete gets a one-off schedule with its own name, so the names ' +
        'are not known in advance: scheduler:CreateSchedule is granted on the schedules of this ' +
        'one group only, and only that action.',
    });
  }

  /** `RECOVERY_SCHEDULE_GROUP`, `RECOVERY_TARGET_ARN`, `RECOVERY_SCHEDULER_ROLE_ARN`. */
  get environment(): Record<string, string> {
    return {
      // The group's reference, not its name: the functions depend on the group being there.
      RECOVERY_SCHEDULE_GROUP: (this.group.node.defaultChild as scheduler.CfnScheduleGroup).ref,
      RECOVERY_TARGET_ARN: this.recoveryFunctionArn,
      RECOVERY_SCHEDULER_ROLE_ARN: this.invokerRole.roleArn,
    };
  }

  private scheduleArn(name: string): string {
    return this.group.stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/${name}`,
    });
  }

  /** The same ARN as cdk-nag writes it in a finding. */
  private nagArn(name: string): string {
    return `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/${name}`;
  }
}
