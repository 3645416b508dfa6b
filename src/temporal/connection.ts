import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

import type { Config } from '../config';

/**
 * Builds Temporal connection options from configuration, following Temporal's
 * standard client environment settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and its TOML file).
 */
export function temporalConnectionOptions(config: Config): ConnectionOptions {
  const loaded = loadClientConnectConfig({ overrideEnvVars: config.env });
  const addressFromProfile = config.env.TEMPORAL_ADDRESS ? undefined : loaded.connectionOptions.address;
  return {
    ...loaded.connectionOptions,
    address: addressFromProfile ?? config.temporalAddress,
    tls: config.temporalTls === false ? false : loaded.connectionOptions.tls,
  } as ConnectionOptions;
}

/** Opens the client connection that the API and scripts use. */
export async function connectClient(config: Config): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return { connection, client: new Client({ connection, namespace: config.temporalNamespace }) };
}

/** Opens the native connection that a worker polls through. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config) as Parameters<typeof NativeConnection.connect>[0]);
}
