/** Every subscriber a process with all roles runs, as /health names them: what the health and handover tests expect to see. */
export const ALL_SUBSCRIBERS = [
  'projection:campaigns',
  'projection:tracked-events',
  'projection:earnings',
  'projection:messages',
  'reactor:rule-engine',
  'reactor:message-requests',
  'reactor:message-delivery',
  'reactor:campaign-descriptions',
  'reactor:earning-approvals',
] as const;
