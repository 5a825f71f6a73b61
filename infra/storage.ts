import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLES, TABLE_KEYS, type KeyAttr, type TableKey } from '../data/stores/tables';

const attr = (a: KeyAttr) => ({ name: a.name, type: a.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER });

/** The tables of data/stores/tables.ts and the one bucket (raw archive, rejects, incoming files, artifacts). */
export class Storage extends Construct {
  readonly tables: Record<TableKey, TableV2>;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: { deletionProtection: boolean }) {
    super(scope, id);
    this.tables = Object.fromEntries(
      TABLE_KEYS.map((key) => {
        const def = TABLES[key];
        const table = new TableV2(this, `${key}Table`, {
          partitionKey: attr(def.partitionKey),
          ...('sortKey' in def ? { sortKey: attr(def.sortKey) } : {}),
          billing: Billing.onDemand(),
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          deletionProtection: props.deletionProtection,
          removalPolicy: props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
          globalSecondaryIndexes: def.indexes.map((ix) => ({
            indexName: ix.name,
            partitionKey: attr(ix.partitionKey),
            ...('sortKey' in ix && ix.sortKey ? { sortKey: attr(ix.sortKey) } : {}),
          })),
        });
        return [key, table];
      }),
    ) as Record<TableKey, TableV2>;
    this.bucket = new Bucket(this, 'DataBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
