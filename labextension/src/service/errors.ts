/**
 * An error with the sidecar's stable code and a sentence for a person.
 */
export class NbqueueError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null = null
  ) {
    super(message);
    this.name = 'NbqueueError';
  }
}

/** The message of the `{"error": {message}}` body, or of a bare `{message}`. */
export function messageOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) {
    return null;
  }
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'object' && error !== null) {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === 'string') {
      return message;
    }
  }
  if (typeof error === 'string') {
    return error;
  }
  return typeof record.message === 'string' ? record.message : null;
}

export function codeOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) {
    return null;
  }
  const error = (body as Record<string, unknown>).error;
  if (typeof error === 'object' && error !== null) {
    const code = (error as Record<string, unknown>).code;
    return typeof code === 'string' ? code : null;
  }
  return null;
}

/** Text for a notification or dialog, whatever was thrown. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
