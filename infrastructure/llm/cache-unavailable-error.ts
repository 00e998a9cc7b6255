/** The response cache's Redis could not be asked (down, or no answer in time): nothing was changed. */
export class CacheUnavailableError extends Error {
  override readonly name = 'CacheUnavailableError';
}
