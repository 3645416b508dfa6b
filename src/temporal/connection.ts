import { Client, Connection, type ConnectionLike, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

import { createDataConverter } from '../codec/data-converter';
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

/**
 * Creates a gmail-sync client on an open connection, with the data converter
 * from configuration, so it reads and writes the payloads that the worker does.
 * Throws a ConfigError when payload encryption is on without keys.
 */
export function createClient(connection: Connection, config: Pick<Config, 'temporalNamespace' | 'payloadEncryption' | 'payloadKeys'>): Client {
  return new Client({ connection, namespace: config.temporalNamespace, dataConverter: createDataConverter(config) });
}

/**
 * Creates the client that the `workflow` delivery target starts the user's
 * workflows with, on the worker's connection and namespace. The event in
 * their input is the user's data, which the user's workers decode, so it
 * uses Temporal's default data converter unless
 * GMAIL_SYNC_WORKFLOW_TARGET_ENCRYPTION is on; then it encrypts like
 * gmail-sync's own payloads, and throws a ConfigError without keys.
 */
export function createWorkflowTargetClient(
  connection: ConnectionLike,
  config: Pick<Config, 'temporalNamespace' | 'workflowTargetEncryption' | 'payloadKeys'>,
): Client {
  const dataConverter = createDataConverter({ payloadEncryption: config.workflowTargetEncryption, payloadKeys: config.payloadKeys });
  return new Client({ connection, namespace: config.temporalNamespace, dataConverter });
}

/** Opens a client connection without a client, for callers that reach only the operator or health service. */
export function connectTemporal(config: Config): Promise<Connection> {
  return Connection.connect(temporalConnectionOptions(config));
}

/** Opens the client connection that the API and scripts use; the payload settings are checked before connecting. */
export async function connectClient(config: Config): Promise<{ client: Client; connection: Connection }> {
  createDataConverter(config);
  const connection = await connectTemporal(config);
  return { connection, client: createClient(connection, config) };
}

/** Opens the native connection that a worker polls through. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config) as Parameters<typeof NativeConnection.connect>[0]);
}
