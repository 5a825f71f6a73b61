process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED='true';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStores } from '../../../functions/local/embedded-stores';
import { createAwsClients } from '../../../data/stores/aws-clients';
import { ensureTables, ensureBucket } from '../../../data/stores/provision';
import { tableNamesFromPrefix } from '../../../data/stores/tables';
import { mapLimit, chunk } from '../../../data/util/async';
const dir = mkdtempSync(join(tmpdir(), 'proto-'));
const st = await startEmbeddedStores({ dataDir: dir, s3Dir: join(dir, 's3'), bucket: 'b' });
const clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: st.dynamoEndpoint, s3Endpoint: st.s3Endpoint });
const N = Number(process.argv[2] ?? 50000);
for (const conc of [4, 8, 16, 32]) {
  const t = tableNamesFromPrefix('p' + conc);
  await ensureTables(clients.dynamo, t);
  const items = Array.from({ length: N }, (_, i) => ({ eventId: `E-${conc}-${i}`, partnerId: `P-${i % 600}`, type: 'content_view', occurredAt: new Date(1.7e12 + i * 1000).toISOString(), quantity: 1, contentHash: 'abcdef0123456789abcdef0123456789', ingestedAt: new Date().toISOString() }));
  const t0 = performance.now();
  await mapLimit(chunk(items, 25), conc, async (b) => { let req = b.map((Item) => ({ PutRequest: { Item } })); while (req.length) { const out = await clients.ddb.send(new BatchWriteCommand({ RequestItems: { [t.events]: req } })); req = (out.UnprocessedItems?.[t.events] as any) ?? []; } });
  const s = (performance.now() - t0) / 1000;
  console.log(conc, N, s.toFixed(2), Math.round(N / s));
}
await st.close();
