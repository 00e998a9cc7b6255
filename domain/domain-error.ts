/**
 * Why the domain refused a command. The HTTP layer maps each kind to a status:
 * not_found → 404, conflict → 409, invalid → 400.
 */
export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** JSON pointer of the offending input, when one field is to blame. */
    readonly pointer?: string,
  ) {
    super(message);
  }
}
