/** What a channel (email, webhook) answers when a notification did not go out. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** True when trying again cannot help (a refused host, a 404): no more attempts. */
    readonly permanent = false
  ) {
    super(message);
  }
}
