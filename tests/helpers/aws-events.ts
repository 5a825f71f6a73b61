import type { APIGatewayProxyEventV2, S3EventRecord } from 'aws-lambda';

/** How S3 writes an object key into an event notification: URL-encoded, '+' for a space. */
const eventKey = (key: string): string => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

/** One S3 event notification record, as S3 sends it for an object written under `key`. */
export function s3Record(bucket: string, key: string, eventName = 'ObjectCreated:Put', size = 100): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.7' },
    responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'incoming-files',
      bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
      object: { key: eventKey(key), size, eTag: '0123456789abcdef0123456789abcdef', sequencer: '0A1B2C3D4E5F678901' },
    },
  };
}

/** An API Gateway HTTP API (v2) event, as the $default route sends it to the function. */
export function httpApiEvent(method: string, path: string, options: { key?: string; body?: unknown; query?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const requestId = `Ab${Math.random().toString(36).slice(2, 12)}=`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {
      accept: 'application/json',
      host: 'abc123.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'vitest',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
      ...options.headers,
    },
    ...(options.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(options.query)) } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'vitest' },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: '30/Jun/2025:12:00:00 +0000',
      timeEpoch: Date.parse('2025-06-30T12:00:00Z'),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}
