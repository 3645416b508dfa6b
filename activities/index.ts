/** The activities that gmail-sync workers run, built over a Gmail provider and a delivery. */
export { createActivities, DELIVERY_TARGET_UNAVAILABLE, type ActivityDependencies } from './create-activities';
export {
  addedDeliveryId,
  DeliveryError,
  eventDeliveryId,
  RecordingDelivery,
  type Delivery,
  type DeliveryEvent,
  type MailboxChange,
  type MailboxChangeKind,
  type RecordedDelivery,
} from './delivery';
export { HistoryFilter } from './history-filter';
