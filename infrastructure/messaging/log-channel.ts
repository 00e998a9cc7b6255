import type { Logger } from '../logger.ts';
import type { Deliver } from './channel.ts';

/** The default channel: the message is a log line, so `npm start` shows every composed message with no setup. */
export const logChannel =
  (logger: Logger): Deliver =>
  async ({ messageId, recipient, body, campaignId, earningId }) =>
    void logger.info({ channel: 'log', messageId, recipient, campaignId, earningId, body }, 'message');
