/** The workflows that gmail-sync workers run. */
export { mailboxWorkflow } from './mailbox/workflow';
export { deliveryWorkflow } from './delivery/workflow';
