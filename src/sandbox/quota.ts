/**
 * Gmail quota units per method, from Google's "Usage limits" page
 * (https://developers.google.com/gmail/api/reference/quota, per-method quota
 * usage table): getProfile 1, history.list 2, labels.list 1, messages.get 5,
 * messages.list 5, watch 100, stop 50.
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
