/** An error a person can act on: a stable code, an HTTP status and one sentence. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (code: string, message: string): ApiError =>
  new ApiError(400, code, message);

export const notFound = (code: string, message: string): ApiError =>
  new ApiError(404, code, message);
