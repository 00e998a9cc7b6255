import { PROVIDER_NAMES } from '../../infrastructure/llm/llm-gateway.ts';
import { sendMessageSchema } from './message-schemas.ts';
import { addRuleSchema, createCampaignSchema, generateSchema, trackEventBatchSchema, trackEventSchema } from './request-schemas.ts';

const problem = { $ref: '#/components/schemas/Problem' } as const;
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: 'problem', content: { 'application/problem+json': { schema: problem } } }]));
const written = { type: 'object', properties: { id: { type: 'string' }, revision: { type: 'string' }, position: { type: 'string' } } } as const;
const campaignId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } } as const;
const providerName = { enum: PROVIDER_NAMES } as const;
const cacheHealth = {
  type: 'object',
  required: ['status', 'kind'],
  properties: { status: { enum: ['ok', 'degraded'] }, kind: { enum: ['redis', 'memory'] }, error: { type: 'string', description: 'while degraded: why' } },
} as const;
const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'the ETag last read; a stale one is a 412' } as const;

const transition = (summary: string) => ({
  post: {
    summary,
    parameters: [campaignId, ifMatch],
    responses: { '200': { description: 'done', ...json({ ...written, properties: { ...written.properties, status: { type: 'string' } } }) }, ...problems(401, 404, 409, 412) },
  },
});

/** The command API described from the very schemas that validate its requests. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Tally command API', version: '1' },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status'],
        properties: {
          type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
    },
  },
  security: [{ basic: [] }],
  paths: {
    '/campaigns': {
      post: { summary: 'Create a campaign', requestBody: { required: true, ...json(createCampaignSchema) }, responses: { '201': { description: 'created', ...json(written) }, ...problems(400, 401, 413) } },
    },
    '/campaigns/{id}/activate': transition('Activate a scheduled or paused campaign'),
    '/campaigns/{id}/pause': transition('Pause an active campaign'),
    '/campaigns/{id}/end': transition('End a campaign (final)'),
    '/campaigns/{id}/rules': {
      post: {
        summary: 'Add a rule', parameters: [campaignId, ifMatch], requestBody: { required: true, ...json(addRuleSchema) },
        responses: { '201': { description: 'added', ...json(written) }, ...problems(400, 401, 404, 409, 412, 413) },
      },
    },
    '/campaigns/{id}/rules/{ruleId}': {
      delete: {
        summary: 'Remove a rule (for events registered after)',
        parameters: [campaignId, { name: 'ruleId', in: 'path', required: true, schema: { type: 'string' } }, ifMatch],
        responses: { '200': { description: 'removed', ...json(written) }, ...problems(401, 404, 409, 412) },
      },
    },
    '/events': {
      post: {
        summary: 'Register a tracked event (idempotent on id)', requestBody: { required: true, ...json(trackEventSchema) },
        responses: { '202': { description: 'registered', ...json({ type: 'object', properties: { id: { type: 'string' }, status: { const: 'pending' }, position: { type: 'string' } } }) }, ...problems(400, 401, 409, 413) },
      },
    },
    '/events/batch': {
      post: {
        summary: 'Register up to 1,000 tracked events, each answered on its own',
        // Each item is validated on its own against the single-event schema, which the document shows in place.
        requestBody: { required: true, ...json({ ...trackEventBatchSchema, properties: { events: { ...trackEventBatchSchema.properties.events, items: trackEventSchema } } }) },
        responses: { '202': { description: 'one result per item, in order: {index, status, body | problem}' }, ...problems(400, 401, 413) },
      },
    },
    '/ai/generate': {
      post: {
        summary: 'Generate text: the providers of LLM_FALLBACK in turn, with retries, a per-call timeout and the response cache',
        requestBody: { required: true, ...json(generateSchema) },
        responses: {
          '200': {
            description: 'generated, or read from the cache (`cached`)',
            ...json({
              type: 'object',
              properties: {
                text: { type: 'string' }, model: { type: 'string' }, provider: providerName, tokenCount: { type: 'integer', description: 'inputTokens + outputTokens' },
                inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' }, cached: { type: 'boolean' },
              },
            }),
          },
          // 502: a provider answered, with an error; 503: none is configured or reachable. `providers: [{provider, error}]` names each.
          ...problems(400, 401, 413, 502, 503),
        },
      },
    },
    '/ai/providers': {
      get: {
        summary: 'Each provider: configured (has a key), its model, and reachable (its models list answered within a short timeout)',
        responses: {
          '200': {
            description: 'the providers, the fallback chain first',
            ...json({
              type: 'object',
              properties: {
                providers: {
                  type: 'array',
                  items: { type: 'object', properties: { provider: providerName, configured: { type: 'boolean' }, model: { type: 'string' }, reachable: { type: 'boolean' }, error: { type: 'string' } } },
                },
              },
            }),
          },
          ...problems(401),
        },
      },
    },
    '/ai/cache/clear': {
      post: {
        summary: "Remove Tally's cached LLM answers (keys tally:llm:*), nothing else",
        responses: { '200': { description: 'how many were removed', ...json({ type: 'object', properties: { cleared: { type: 'integer' } } }) }, ...problems(401, 503) },
      },
    },
    '/ai/cache/health': {
      get: { summary: 'The response cache: ok, or degraded (Redis away: generation goes on uncached)', responses: { '200': { description: 'either way', ...json(cacheHealth) }, ...problems(401) } },
    },
    '/messages': {
      post: {
        summary: 'Send one message explicitly (exactly one of body and prompt); delivered by the messaging reactor',
        requestBody: { required: true, ...json(sendMessageSchema) },
        responses: { '202': { description: 'requested', ...json({ type: 'object', properties: { id: { type: 'string' }, status: { const: 'requested' }, position: { type: 'string' } } }) }, ...problems(400, 401, 413) },
      },
    },
    '/events/simulate': {
      post: {
        summary: 'Which rules would match this document, and why the others would not; changes nothing',
        parameters: [{ name: 'minPosition', in: 'query', required: false, schema: { type: 'string' } }],
        requestBody: { required: true, ...json(trackEventSchema) },
        responses: { '200': { description: 'wouldMatch, skipReasons?, rules: [{campaignId, ruleId, matched, failedPath?}]' }, ...problems(400, 401, 413, 503) },
      },
    },
  },
} as const;
