import { Router, type Request } from 'express';
import type { Knex } from 'knex';
import { badRequest, notFound } from '../infrastructure/http/problem.ts';
import { refuseUnstorableParams } from '../infrastructure/http/storable-url.ts';
import { createMessageQueries, MESSAGE_STATUSES, type MessageStatusView } from './message-queries.ts';
import { numberParam, stringParam } from './query-params.ts';

const statusParam = (req: Request): MessageStatusView | undefined => {
  const status = stringParam(req, 'status');
  if (status === undefined || (MESSAGE_STATUSES as readonly string[]).includes(status)) return status as MessageStatusView | undefined;
  throw badRequest(`query parameter status must be one of ${MESSAGE_STATUSES.join(', ')}`, [{ pointer: '/query/status', message: `must be one of ${MESSAGE_STATUSES.join(', ')}` }]);
};

/** GET /messages?recipient=&status=&campaignId=&limit=&offset=, GET /messages/:id (with its attempts). */
export const messageRoutes = (knex: Knex): Router => {
  const queries = createMessageQueries(knex);
  const router = Router();
  refuseUnstorableParams(router, 'id');

  router.get('/messages', async (req, res) => {
    const filter = { recipient: stringParam(req, 'recipient'), status: statusParam(req), campaignId: stringParam(req, 'campaignId') };
    const limit = numberParam(req, 'limit', { min: 1, max: 1000, fallback: 100 });
    const offset = numberParam(req, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    res.json({ messages: await queries.messages(filter, limit, offset), limit, offset });
  });

  router.get('/messages/:id', async (req, res) => {
    const message = await queries.message(req.params.id);
    if (!message) throw notFound(`message ${req.params.id} not found`);
    res.json(message);
  });

  return router;
};
