import { isIP } from 'node:net';

import type { DeliveryOptions } from '../../workflows/mailbox/types';

export const DELIVERY_TARGETS = ['log', 'webhook', 'workflow'] as const;
export type DeliveryTargetName = (typeof DELIVERY_TARGETS)[number];

/** Headers that format `metadata` fetches when neither the mailbox nor the configuration names others. */
export const DEFAULT_METADATA_HEADERS = ['From', 'To', 'Subject', 'Date'];

const SECRET_REF_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
const HEADER_NAME_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
/** A workflow type or task queue name: 1 to 255 visible characters, no spaces. */
const TEMPORAL_NAME_PATTERN = /^[\x21-\x7e\u00a0-\uffff]{1,255}$/;

/** Returns the name of the environment variable that contains the signing secret a `webhookSecretRef` names. */
export function webhookSecretVariable(secretRef: string): string {
  return `GMAIL_SYNC_WEBHOOK_SECRET_${secretRef.toUpperCase()}`;
}

/**
 * Checks a mailbox's delivery options at start. Returns the first problem,
 * naming the value and the fix, or undefined when the options are valid. A
 * mailbox without a target takes the worker's default and is not checked
 * against it, because the API does not know the worker's configuration.
 */
export function deliveryOptionsProblem(options: DeliveryOptions | undefined): string | undefined {
  const target = options?.target;
  if (target !== undefined && !(DELIVERY_TARGETS as readonly string[]).includes(target)) {
    return `delivery.target ${JSON.stringify(target)} is not a known target; use one of ${DELIVERY_TARGETS.join(', ')}`;
  }
  if (options?.format !== undefined && options.format !== 'metadata' && options.format !== 'full') {
    return `delivery.format ${JSON.stringify(options.format)} is invalid; use metadata or full`;
  }
  const badHeader = options?.metadataHeaders?.find((name) => typeof name !== 'string' || !HEADER_NAME_PATTERN.test(name));
  if (options?.metadataHeaders !== undefined && (!Array.isArray(options.metadataHeaders) || badHeader !== undefined)) {
    return `delivery.metadataHeaders contains ${JSON.stringify(badHeader)}, which is not a header name; send an array of names such as ["From", "Subject"]`;
  }
  if (target === 'webhook') {
    return webhookProblem(options!);
  }
  if (target === 'workflow') {
    return workflowProblem(options!);
  }
  return undefined;
}

function workflowProblem(options: DeliveryOptions): string | undefined {
  const { workflowType, workflowTaskQueue } = options;
  if (typeof workflowType !== 'string' || !TEMPORAL_NAME_PATTERN.test(workflowType)) {
    return `delivery.workflowType ${JSON.stringify(workflowType)} is missing or invalid; the workflow target needs the name of your workflow type (1 to 255 characters without spaces), such as "handleGmailMessage"`;
  }
  if (typeof workflowTaskQueue !== 'string' || !TEMPORAL_NAME_PATTERN.test(workflowTaskQueue) || workflowTaskQueue.startsWith('/_sys/')) {
    return `delivery.workflowTaskQueue ${JSON.stringify(workflowTaskQueue)} is missing or invalid; name the task queue your workers poll (1 to 255 characters without spaces), such as "gmail-handlers"`;
  }
  return undefined;
}

function webhookProblem(options: DeliveryOptions): string | undefined {
  const { webhookUrl, webhookSecretRef } = options;
  if (typeof webhookUrl !== 'string' || webhookUrl === '') {
    return 'delivery.webhookUrl is missing; the webhook target needs the https URL to POST events to';
  }
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    return `delivery.webhookUrl ${JSON.stringify(webhookUrl)} is not a URL; send an absolute https URL`;
  }
  // Workflow history keeps the URL, and fetch refuses one with credentials: the secret belongs in webhookSecretRef.
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = '';
    return `delivery.webhookUrl ${JSON.stringify(url.href)} carries a user name or password; remove it, because workflow history keeps the URL, and let the receiver check the signature made with webhookSecretRef`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `delivery.webhookUrl ${JSON.stringify(webhookUrl)} uses ${url.protocol.slice(0, -1)}; use an https URL`;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return `delivery.webhookUrl ${JSON.stringify(webhookUrl)} is plain http to a host other than loopback; use https`;
  }
  if (typeof webhookSecretRef !== 'string' || !SECRET_REF_PATTERN.test(webhookSecretRef)) {
    return `delivery.webhookSecretRef ${JSON.stringify(webhookSecretRef)} is missing or invalid; name the signing secret with 1 to 64 letters, digits or underscores, and set ${webhookSecretVariable('<name>')} on the workers`;
  }
  return undefined;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') {
    return true;
  }
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/** Parses a comma-separated list of header names, such as `From,To,Subject`. */
export function parseHeaderNames(raw: string): string[] {
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0 || names.some((name) => !HEADER_NAME_PATTERN.test(name))) {
    throw new Error('a comma-separated list of header names such as From,To,Subject,Date');
  }
  return names;
}
