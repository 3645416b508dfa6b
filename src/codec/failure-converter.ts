/**
 * Failure converter of gmail-sync when payload encryption is on, loaded by
 * path because the worker bundles it into the workflow sandbox. It moves each
 * failure's message and stack trace into an encoded attributes payload, which
 * the payload codec then encrypts; Temporal stores them in clear otherwise.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
