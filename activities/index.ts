/** The activities that gmail-sync workers run, built over a Gmail provider and a delivery. */
export { createActivities, type ActivityDependencies } from './create-activities';
export {
  addedDeliveryId,
  eventDeliveryId,
  RecordingDelivery,
  type Delivery,
  type MailboxChange,
  type MailboxChangeKind,
  type RecordedDelivery,
} from './delivery';
export { HistoryFilter } from './history-filter';
