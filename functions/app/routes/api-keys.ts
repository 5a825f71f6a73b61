import { z } from 'zod';
import { apiKeyViewSchema, createApiKeySchema, createdApiKeySchema } from '../../../data/schemas/api-key';
import { authErrors, problem } from '../common-schemas';
import { defineResource } from '../route-spec';
import { validJson, validParams } from '../validate';

const idParams = z.object({ id: z.string().min(1).max(64) });

export const apiKeysResource = defineResource({
  basePath: '/v1/api-keys',
  tag: 'API keys',
  routes: [
    {
      method: 'post',
      path: '/',
      summary: 'Create an API key',
      description: 'The secret is returned once and stored only as a hash. partnerId is required for role partner and refused for the others.',
      roles: ['admin'],
      body: { schema: createApiKeySchema, contentTypes: ['application/json'] },
      responses: { 201: { description: 'Created', schema: createdApiKeySchema }, 400: problem('Invalid body'), ...authErrors },
      handler: async (c) => {
        const input = await validJson(c, createApiKeySchema);
        const { id, key, record } = await c.get('deps').apiKeys.create(input);
        c.get('deps').logger.info('api key created', { requestId: c.get('requestId'), keyId: id, role: record.role, by: c.get('principal').keyId });
        return c.json({ id, key }, 201);
      },
    },
    {
      method: 'get',
      path: '/',
      summary: 'List API keys (without secrets)',
      roles: ['admin'],
      responses: { 200: { description: 'The keys', schema: z.object({ items: z.array(apiKeyViewSchema) }) }, ...authErrors },
      handler: async (c) => c.json({ items: await c.get('deps').apiKeys.list() }),
    },
    {
      method: 'delete',
      path: '/{id}',
      summary: 'Revoke an API key at once',
      roles: ['admin'],
      params: idParams,
      responses: { 204: { description: 'Revoked' }, ...authErrors, 404: problem('No such key') },
      handler: async (c) => {
        const { id } = validParams(c, idParams);
        await c.get('deps').apiKeys.revoke(id);
        c.get('deps').logger.info('api key revoked', { requestId: c.get('requestId'), keyId: id, by: c.get('principal').keyId });
        return c.body(null, 204);
      },
    },
  ],
});
