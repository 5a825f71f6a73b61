import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface ServiceApiProps {
  handler: IFunction;
  /** Steady requests a second and burst, for the whole stage (API Gateway answers 429 beyond them). */
  throttle: { rateLimit: number; burstLimit: number };
}

/** Fields of each access log line (JSON); requestId is the id the app logs and answers in x-request-id. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  bytes: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
};

/**
 * The HTTP API (API Gateway v2): every route to the one Hono app (its $default route), access
 * logs as JSON lines, and stage-wide throttling.
 */
export class ServiceApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Partner scoring service API',
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('App', props.handler),
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(this.accessLogs), format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)) },
    });
    // The $default route carries every path; which paths need a key, and which role, is the app's route table.
    for (const child of this.api.node.findAll()) {
      if (child.node.id === 'DefaultRoute') {
        Validations.of(child).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Authorization is done by the app on every /v1 route: a Bearer API key looked up by its SHA-256 hash in DynamoDB, with the roles of each route (functions/app/route-spec.ts, auth.ts); /health, /openapi.json, /docs and / are public by the service contract. A gateway authorizer would add a second lookup per request without adding a check.',
        });
        Validations.of(child).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: 'Callers are partner-operations tools and partners holding API keys issued by the service (POST /v1/api-keys), not Cognito users.',
        });
      }
    }
  }

  get url(): string {
    return this.api.apiEndpoint;
  }
}
