import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Only alarms whose name starts with it may publish. */
  readonly alarmNamePrefix: string;
  /** Subscribed by email (the address must confirm the subscription once). @default none */
  readonly email?: string;
}

/**
 * The one SNS topic every alarm notifies, encrypted with a key of its own and reachable only
 * over TLS. The key is a customer managed one because CloudWatch cannot publish to a topic
 * under the AWS-managed `aws/sns` key (its key policy cannot let CloudWatch use it). Nothing
 * stays encrypted under it once a notification is delivered, so the key goes with the stack.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm notifications of ${Stack.of(this).stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // What CloudWatch needs to put an alarm notification on an encrypted topic.
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${Stack.of(this).stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The SSL statement makes a topic policy, which replaces SNS's default one (where the
    // account's own services could publish): without this, alarms fail with "not authorized
    // to perform: SNS:Publish".
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${props.alarmNamePrefix}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
