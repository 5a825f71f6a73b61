import { createApp } from './app/app';
import { lambdaDeps } from './lambda-deps';
import { apiGatewayHandler } from './lambda-events';

export const handler = apiGatewayHandler(createApp(lambdaDeps('api')));
