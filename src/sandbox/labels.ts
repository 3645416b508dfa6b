/** Gmail's system labels, as labels.list returns them for every mailbox. */
export const SYSTEM_LABEL_IDS = [
  'CHAT', 'SENT', 'INBOX', 'IMPORTANT', 'TRASH', 'DRAFT', 'SPAM', 'STARRED', 'UNREAD',
  'CATEGORY_FORUMS', 'CATEGORY_UPDATES', 'CATEGORY_PERSONAL', 'CATEGORY_PROMOTIONS', 'CATEGORY_SOCIAL',
] as const;

/** User labels are named `Label_<n>` by Gmail; the sandbox creates one on first use of such an id. */
export const USER_LABEL_PATTERN = /^Label_\d+$/;

export function isKnownLabelId(id: string): boolean {
  return (SYSTEM_LABEL_IDS as readonly string[]).includes(id) || USER_LABEL_PATTERN.test(id);
}

/** Labels that every newly received message carries unless the caller names others. */
export const DEFAULT_DELIVERY_LABEL_IDS = ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'];
