/** The Gmail client factory, its sandbox provider, the error mapper and address resolution. */
export { createGmailProvider, type GmailProvider } from './provider';
export { createSandboxGmailProvider, SANDBOX_REFRESH_PREFIX } from './sandbox-provider';
export { callGmail, retryAfterMs, toGmailFailure, type GmailMethod } from './errors';
export { resolveMailboxAddress } from './resolve-address';
