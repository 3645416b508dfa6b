/**
 * Gmail quota units per method, from the per-method table of Google's "Usage
 * limits" page (https://developers.google.com/gmail/api/reference/quota):
 * getProfile 1, history.list 2, labels.list 1, messages.get 5, messages.list 5.
 * NOTE: watch 100 and stop 50 come from the project's plan; the copy of that
 * page read while writing this was cut off before those two rows.
 */
export const QUOTA_UNITS = {
  getProfile: 1,
  watch: 100,
  stop: 50,
  'history.list': 2,
  'messages.list': 5,
  'messages.get': 5,
  'labels.list': 1,
} as const;

export type GmailMethod = keyof typeof QUOTA_UNITS;

export const GMAIL_METHODS = Object.keys(QUOTA_UNITS) as GmailMethod[];
