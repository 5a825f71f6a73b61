import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  type DynamoDBClient,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { sleep } from '../util/async';
import { TABLES, TABLE_KEYS, type TableNames } from './tables';

/** Creates any missing table (local stack and tests; on AWS the CDK owns the tables). Safe to call again. */
export async function ensureTables(dynamo: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all(
    TABLE_KEYS.map(async (key) => {
      const def = TABLES[key];
      const attrs = new Map<string, AttributeDefinition>();
      const add = (a: { name: string; type: 'S' | 'N' }): void => void attrs.set(a.name, { AttributeName: a.name, AttributeType: a.type });
      add(def.partitionKey);
      if ('sortKey' in def) add(def.sortKey);
      for (const ix of def.indexes) {
        add(ix.partitionKey);
        if ('sortKey' in ix && ix.sortKey) add(ix.sortKey);
      }
      try {
        await dynamo.send(
          new CreateTableCommand({
            TableName: names[key],
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [...attrs.values()],
            KeySchema: [
              { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
              ...('sortKey' in def ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            ...(def.indexes.length > 0
              ? {
                  GlobalSecondaryIndexes: def.indexes.map((ix) => ({
                    IndexName: ix.name,
                    KeySchema: [
                      { AttributeName: ix.partitionKey.name, KeyType: 'HASH' as const },
                      ...('sortKey' in ix && ix.sortKey ? [{ AttributeName: ix.sortKey.name, KeyType: 'RANGE' as const }] : []),
                    ],
                    Projection: { ProjectionType: 'ALL' as const },
                  })),
                }
              : {}),
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      for (let i = 0; i < 200; i++) {
        const out = await dynamo.send(new DescribeTableCommand({ TableName: names[key] }));
        const indexesActive = (out.Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
        if (out.Table?.TableStatus === 'ACTIVE' && indexesActive) return;
        await sleep(50);
      }
      throw new Error(`Table ${names[key]} did not become ACTIVE`);
    }),
  );
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
