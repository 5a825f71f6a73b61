import { App, Stack } from 'aws-cdk-lib';
import { Storage } from './storage';

// The storage layer, from the same table list the local stack uses. Issue 5 adds the API, ingest,
// training and scoring functions on top of it.
const app = new App();
const stack = new Stack(app, 'PartnerScoring', { description: 'Partner scoring service' });
new Storage(stack, 'Storage', { deletionProtection: app.node.tryGetContext('deletionProtection') !== 'false' });
app.synth();
