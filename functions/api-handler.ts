import { handle } from 'hono/aws-lambda';
import { createApp } from './app/app';
import { lambdaDeps } from './lambda-deps';

export const handler = handle(createApp(lambdaDeps));
