import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PartnerScoringStack } from './partner-scoring-stack';

// `npx cdk synth|deploy [-c key=value]`: every option below is a context value (cdk.json or -c).
const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) as string | undefined;
const number = (key: string): number | undefined => (context(key) === undefined ? undefined : Number(context(key)));
const rate = number('apiRateLimit');
const burst = number('apiBurstLimit');
const concurrency = number('scoringConcurrency');
const perShard = number('partnersPerShard');
const email = context('alarmEmail');
const schedule = context('nightlyScoring');

new PartnerScoringStack(app, context('stackName') ?? 'PartnerScoring', {
  description: 'Partner scoring service: HTTP API, ingest, training and scoring on Lambda, DynamoDB, S3',
  deletionProtection: String(context('deletionProtection')) !== 'false',
  ...(rate && burst ? { apiThrottle: { rateLimit: rate, burstLimit: burst } } : {}),
  ...(concurrency ? { scoringConcurrency: concurrency } : {}),
  ...(perShard ? { partnersPerShard: perShard } : {}),
  ...(email ? { alarmEmail: email } : {}),
  ...(schedule ? { nightlyScoring: schedule } : {}),
});
// cdk-nag's AWS Solutions pack runs on every synth; an unacknowledged error fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
