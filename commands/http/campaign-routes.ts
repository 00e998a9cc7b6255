import { Router } from 'express';
import { campaignDecider } from '../../domain/campaign/campaign-decider.ts';
import { campaignStream } from '../../domain/campaign/campaign-events.ts';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import { handleCommand } from '../command-handler.ts';
import type { CommandContext } from './command-context.ts';
import { addRuleSchema, createCampaignSchema, type AddRuleBody, type CreateCampaignBody } from './request-schemas.ts';

const validateCreateCampaign = bodyValidator<CreateCampaignBody>(createCampaignSchema);
const validateAddRule = bodyValidator<AddRuleBody>(addRuleSchema);

export const campaignRoutes = ({ store, clock, newId, actor }: CommandContext): Router => {
  const router = Router();

  router.post('/campaigns', async (req, res) => {
    const body = validateCreateCampaign(req.body);
    const campaignId = newId();
    const result = await handleCommand(
      store,
      campaignStream(campaignId),
      campaignDecider,
      { type: 'CreateCampaign', data: { ...body, currency: body.currency ?? 'EUR', campaignId, now: clock().toISOString() } },
      { metadata: { actor: actor(req) } },
    );
    const created = result.events[0]!;
    res
      .status(201)
      .location(`/campaigns/${campaignId}`)
      .setHeader('ETag', `"${result.revision}"`)
      .json({ id: campaignId, status: created.type === 'CampaignCreated' ? created.data.status : undefined, revision: String(result.revision), position: result.position });
  });

  router.post('/campaigns/:id/rules', async (req, res) => {
    const body = validateAddRule(req.body);
    const ruleId = newId();
    const result = await handleCommand(
      store,
      campaignStream(req.params.id),
      campaignDecider,
      {
        type: 'AddRule',
        data: {
          ruleId,
          name: body.name ?? `rule ${ruleId.slice(0, 8)}`,
          priority: body.priority ?? 0,
          conditions: body.conditions,
          reward: body.reward,
          beneficiary: body.beneficiary ?? 'customerId',
          now: clock().toISOString(),
        },
      },
      { metadata: { actor: actor(req) } },
    );
    res
      .status(201)
      .setHeader('ETag', `"${result.revision}"`)
      .json({ id: ruleId, campaignId: req.params.id, revision: String(result.revision), position: result.position });
  });

  return router;
};
