import type { Mailbox } from '../mailbox';
import { SYSTEM_LABEL_IDS, USER_LABEL_PATTERN } from '../labels';

/** users.labels.list: the system labels plus each user label a message carries. */
export function listLabels(mailbox: Mailbox): Record<string, unknown> {
  const userLabels = new Set<string>();
  for (const message of mailbox.data.messages) {
    message.labelIds.filter((label) => USER_LABEL_PATTERN.test(label)).forEach((label) => userLabels.add(label));
  }
  return {
    labels: [
      ...SYSTEM_LABEL_IDS.map((id) => ({ id, name: id, type: 'system' })),
      ...[...userLabels].sort().map((id) => ({
        id,
        name: id,
        type: 'user',
        messageListVisibility: 'show',
        labelListVisibility: 'labelShow',
      })),
    ],
  };
}
