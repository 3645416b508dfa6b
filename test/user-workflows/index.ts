/**
 * A user's own handler for the `workflow` delivery target, written the way a
 * team would write it in their own worker: it receives the event, or a batch
 * of label and deletion events, as its one argument. Not product code.
 */
export interface ReceivedEvent {
  kind: string;
  deliveryId: string;
  emailAddress: string;
  messageId?: string;
  events?: ReceivedEvent[];
}

/** Returns its input, so a test reads what the target sent from the workflow's result and history. */
export function handleGmailEvent(event: ReceivedEvent): Promise<ReceivedEvent> {
  return Promise.resolve(event);
}
