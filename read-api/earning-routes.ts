import { Router, type Request } from 'express';
import type { Knex } from 'knex';
import { notFound } from '../infrastructure/http/problem.ts';
import { refuseUnstorableParams } from '../infrastructure/http/storable-url.ts';
import { EARNING_STATUSES } from '../projections/read-models/earning-status.ts';
import { createEarningQueries } from './earning-queries.ts';
import { enumParam, numberParam, stringParam } from './query-params.ts';

/**
 * GET /earnings (without history: a list stays one query however long),
 * GET /earnings/:id (with its history), GET /beneficiaries/:id/balance.
 */
export const earningRoutes = (knex: Knex): Router => {
  const queries = createEarningQueries(knex);
  const router = Router();
  refuseUnstorableParams(router, 'id');

  router.get('/earnings', async (req, res) => {
    const filter = { beneficiaryId: stringParam(req, 'beneficiaryId'), campaignId: stringParam(req, 'campaignId'), status: enumParam(req, 'status', EARNING_STATUSES) };
    const limit = numberParam(req, 'limit', { min: 1, max: 1000, fallback: 100 });
    const offset = numberParam(req, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    res.json({ earnings: await queries.earnings(filter, limit, offset), limit, offset });
  });

  router.get('/earnings/:id', async (req: Request<{ id: string }>, res) => {
    const earning = await queries.earning(req.params.id);
    if (!earning) throw notFound(`earning ${req.params.id} not found`);
    res.json(earning);
  });

  // A beneficiary is only an id the rules name: one with no earnings has empty balances, not a 404.
  router.get('/beneficiaries/:id/balance', async (req: Request<{ id: string }>, res) => {
    res.json({ beneficiaryId: req.params.id, balances: await queries.balance(req.params.id) });
  });

  return router;
};
