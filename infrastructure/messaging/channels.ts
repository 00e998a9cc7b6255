import type { MessagingConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Channels } from './channel.ts';
import { emailChannel } from './email-channel.ts';
import { logChannel } from './log-channel.ts';
import { webhookChannel } from './webhook-channel.ts';

/** Every channel, built from configuration; `close` ends the SMTP connections. */
export const createChannels = (config: MessagingConfig, logger: Logger, clock: () => Date): { channels: Channels; close(): void } => {
  const email = emailChannel({ smtpUrl: config.smtpUrl, from: config.mailFrom, timeoutMs: config.emailTimeoutMs });
  return {
    channels: {
      log: logChannel(logger.child({ role: 'messages' })),
      webhook: webhookChannel({ secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, clock, allowPrivateNetworks: config.webhookAllowPrivateNetworks }),
      email: email.deliver,
    },
    close: () => email.close(),
  };
};
