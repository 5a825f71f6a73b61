import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms, all notifying one SNS topic (subscribe to it, or pass -c alarmEmail=...): API 5xx,
 * each function's errors and throttles, and any message in a dead-letter queue.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: { alarmEmail?: string }) {
    super(scope, id);
    this.topic = new Topic(this, 'AlarmTopic', { displayName: 'Partner scoring alarms', enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries CloudWatch alarm state changes only (alarm name, metric, threshold), never service data. CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key would need a key policy with wildcard administration actions; transport is SSL-only (SNS3).',
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
  }

  private alarm(id: string, metric: IMetric, threshold: number, description: string): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** 5 or more 5xx answers in 5 minutes: a store outage (503) or a bug (500). */
  watchApi(api: HttpApi): void {
    this.alarm('Api5xx', api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 5, 'The HTTP API answered 5xx 5 or more times in 5 minutes: see the API function logs (request ids in the access log).');
  }

  watchFunction(name: string, fn: IFunction): void {
    this.alarm(`${name}Errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `The ${name} function failed (an error or a timeout) in the last 5 minutes.`);
    this.alarm(`${name}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `The ${name} function was throttled in the last 5 minutes (account or function concurrency reached).`);
  }

  watchDeadLetters(name: string, queue: IQueue, what: string): void {
    this.alarm(`${name}DeadLetters`, queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }), 1, `${what} is in the ${name} dead-letter queue: inspect it, fix the cause, then redrive it.`);
  }
}
