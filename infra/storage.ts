import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLES, TABLE_KEYS, tableEnvVar, tableNamesFromPrefix, type KeyAttr, type TableKey } from '../data/stores/tables';
import type { DynamoAction, FunctionResources } from '../functions/lambda-functions';

const attr = (a: KeyAttr) => ({ name: a.name, type: a.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER });

/** Actions that read an index too: their grants name each of the table's indexes. */
const INDEX_ACTIONS: ReadonlySet<DynamoAction> = new Set(['dynamodb:Query', 'dynamodb:Scan']);

export interface StorageProps {
  /** Table names are `<tablePrefix>-<table>` (what TABLE_PREFIX means to the CLI). */
  tablePrefix: string;
  /** Deletion protection on the tables, and tables and buckets retained when the stack is deleted. */
  deletionProtection: boolean;
  /** Days before raw/ objects move to Glacier Instant Retrieval (they are read only to audit or rebuild). */
  rawArchiveAfterDays?: number;
  /** Days rejected batches, incoming files and their reports are kept. */
  rejectsExpireAfterDays?: number;
}

/**
 * The tables of data/stores/tables.ts and the one bucket (raw archive, rejects, incoming files,
 * reports, model artifacts), with bind helpers that give a function a table or a key prefix:
 * each sets the environment variable the function's config reads and grants exactly the
 * actions it declares (functions/lambda-functions.ts), together.
 */
export class Storage extends Construct {
  readonly tables: Record<TableKey, TableV2>;
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const names = tableNamesFromPrefix(props.tablePrefix);
    this.tables = Object.fromEntries(
      TABLE_KEYS.map((key) => {
        const def = TABLES[key];
        const table = new TableV2(this, `${key}Table`, {
          tableName: names[key],
          partitionKey: attr(def.partitionKey),
          ...('sortKey' in def ? { sortKey: attr(def.sortKey) } : {}),
          billing: Billing.onDemand(),
          encryption: TableEncryptionV2.awsManagedKey(),
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          deletionProtection: props.deletionProtection,
          removalPolicy,
          globalSecondaryIndexes: def.indexes.map((ix) => ({
            indexName: ix.name,
            partitionKey: attr(ix.partitionKey),
            ...('sortKey' in ix && ix.sortKey ? { sortKey: attr(ix.sortKey) } : {}),
          })),
        });
        return [key, table];
      }),
    ) as Record<TableKey, TableV2>;

    this.accessLogs = new Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // S3 server access logging can only deliver to a bucket encrypted with S3-managed keys.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the destination of the data bucket’s server access logs; logging it into itself would log its own log deliveries without end.',
    });

    const rejectsDays = props.rejectsExpireAfterDays ?? 180;
    this.bucket = new Bucket(this, 'DataBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      removalPolicy,
      lifecycleRules: [
        // The raw archive is written once and read only to audit or rebuild: cheaper storage after a month.
        { id: 'raw-archive', prefix: 'raw/', transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.rawArchiveAfterDays ?? 30) }] },
        { id: 'expire-rejects', prefix: 'rejects/', expiration: Duration.days(rejectsDays) },
        { id: 'expire-incoming', prefix: 'incoming/', expiration: Duration.days(rejectsDays) },
        { id: 'expire-reports', prefix: 'reports/', expiration: Duration.days(rejectsDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
  }

  /** The bucket's logical id, as cdk-nag names its ARN in findings. */
  bucketArnToken(): string {
    return `<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>`;
  }

  /** TABLE_<NAME> and the declared actions on the table (and, for Query and Scan, on each of its indexes by name). */
  bindTable(fn: LambdaFunction, key: TableKey, actions: readonly DynamoAction[]): void {
    const table = this.tables[key];
    fn.addEnvironment(tableEnvVar(key), table.tableName);
    grant(fn, [...actions], [table.tableArn]);
    const indexActions = actions.filter((a) => INDEX_ACTIONS.has(a));
    const indexes = TABLES[key].indexes.map((ix) => `${table.tableArn}/index/${ix.name}`);
    if (indexActions.length > 0 && indexes.length > 0) grant(fn, indexActions, indexes);
  }

  /** BUCKET_NAME and GetObject / PutObject on exactly the declared key prefixes (ListBucket if declared). */
  bindObjects(fn: LambdaFunction, objects: NonNullable<FunctionResources['objects']>): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    const under = (prefixes: readonly string[] | undefined) => (prefixes ?? []).map((p) => this.bucket.arnForObjects(`${p}*`));
    if (objects.read?.length) grant(fn, ['s3:GetObject'], under(objects.read));
    if (objects.write?.length) grant(fn, ['s3:PutObject'], under(objects.write));
    if (objects.list) grant(fn, ['s3:ListBucket'], [this.bucket.bucketArn]);
  }

  /** Everything a function declares, in one call. */
  bind(fn: LambdaFunction, resources: FunctionResources): void {
    for (const [key, actions] of Object.entries(resources.tables) as [TableKey, readonly DynamoAction[]][]) this.bindTable(fn, key, actions);
    if (resources.objects) this.bindObjects(fn, resources.objects);
  }
}

function grant(grantee: IGrantable & { addToRolePolicy(s: PolicyStatement): void }, actions: string[], resources: string[]): void {
  grantee.addToRolePolicy(new PolicyStatement({ actions, resources }));
}
