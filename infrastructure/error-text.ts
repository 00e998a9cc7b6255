/** What a thrown value says, for logs, health reports and recorded failures: anything may be thrown, not only Errors. */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
