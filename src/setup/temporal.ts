import type { Connection } from '@temporalio/client';

import { registerSearchAttributes, SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import type { SetupStep } from './steps';

/** True for Temporal Cloud, whose namespaces take search attributes through tcld or the Cloud UI, not the operator service. */
export function isTemporalCloud(address: string): boolean {
  return /\.tmprl\.cloud:\d+$/.test(address);
}

export function temporalCloudInstructions(namespace: string): string {
  const flags = SEARCH_ATTRIBUTES.map((key) => `--search-attribute "${key.name}=Keyword"`).join(' ');
  return `Temporal Cloud: add the search attributes with \`tcld namespace search-attributes add --namespace ${namespace} ${flags}\` or in the Cloud UI under the namespace's search attributes.`;
}

/** Registers GmailEmailAddress and GmailSyncStatus on a self-hosted cluster when missing. */
export function temporalSteps(connect: () => Promise<Connection>, address: string, namespace: string): SetupStep[] {
  const names = SEARCH_ATTRIBUTES.map((key) => key.name).join(' and ');
  if (isTemporalCloud(address)) {
    return [
      {
        description: `check the search attributes ${names} on Temporal Cloud namespace ${namespace}`,
        run: () => Promise.resolve({ result: 'skipped', detail: temporalCloudInstructions(namespace) }),
      },
    ];
  }
  return [
    {
      description: `register the search attributes ${names} (Keyword) in namespace ${namespace} at ${address}`,
      run: async () => {
        const connection = await connect();
        try {
          const added = await registerSearchAttributes(connection, namespace);
          return added.length > 0 ? { result: 'created', detail: added.join(', ') } : { result: 'unchanged' };
        } finally {
          await connection.close();
        }
      },
    },
  ];
}
