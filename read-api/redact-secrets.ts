import type { JsonObject } from '../infrastructure/event-store/event-store.ts';

const REDACTED = '[redacted]';

/**
 * A domain event's data as the audit read shows it: a campaign's webhook
 * secret (`notifications.secret`, kept in the log so that deliveries can sign)
 * is never echoed, whoever holds the API credentials.
 */
export const redactSecrets = (data: JsonObject): JsonObject => {
  const notifications = data.notifications;
  if (typeof notifications !== 'object' || notifications === null || Array.isArray(notifications) || !('secret' in notifications)) return data;
  return { ...data, notifications: { ...notifications, secret: REDACTED } };
};
