/**
 * Counts Temporal Cloud actions in workflow history events, by the rules of
 * Temporal's "Temporal Cloud Actions" page (docs.temporal.io/cloud/actions).
 * Queries, activity heartbeats and rejected updates are billed too but leave
 * no event, so callers count those themselves.
 */
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const EventType = temporal.api.enums.v1.EventType;

/** Marker name of a local activity's result in the TypeScript SDK's core. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface ActionCounts {
  workflowStarts: number;
  signals: number;
  timers: number;
  /** Activity tasks scheduled plus their retries. */
  activities: number;
  /** Workflow tasks that recorded at least one local activity marker. */
  localActivityTasks: number;
  searchAttributeUpserts: number;
  updates: number;
  /** Child workflow starts, two actions each, external signals, options updates and Nexus operations. */
  other: number;
  total: number;
}

/** The counting rule, in words, for results files. */
export const ACTION_COUNTING_RULE = [
  'Actions are counted from the history events, as Temporal Cloud bills them:',
  'one per WorkflowExecutionStarted (continue-as-new included), WorkflowExecutionSignaled, TimerStarted,',
  'UpsertWorkflowSearchAttributes, WorkflowExecutionUpdateAccepted, SignalExternalWorkflowExecutionInitiated,',
  'WorkflowExecutionOptionsUpdated and NexusOperationScheduled; two per StartChildWorkflowExecutionInitiated;',
  'one per ActivityTaskScheduled plus one per retry (the attempt number of its ActivityTaskStarted minus one);',
  'and one per workflow task whose commands recorded local activity markers, however many markers it recorded.',
  'Queries, activity heartbeats and rejected updates leave no event, so callers count them another way.',
].join(' ');

/** Counts the actions of `events`, one workflow run's history or a slice of it. */
export function countActions(events: HistoryEvent[]): ActionCounts {
  const counts: ActionCounts = { workflowStarts: 0, signals: 0, timers: 0, activities: 0, localActivityTasks: 0, searchAttributeUpserts: 0, updates: 0, other: 0, total: 0 };
  const localActivityTasks = new Set<string>();

  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        counts.workflowStarts += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        counts.signals += 1;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        counts.timers += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        counts.activities += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        counts.activities += Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
          localActivityTasks.add(String(event.markerRecordedEventAttributes.workflowTaskCompletedEventId));
        }
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        counts.searchAttributeUpserts += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        counts.updates += 1;
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        counts.other += 2;
        break;
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
      case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
        counts.other += 1;
        break;
      default:
        break;
    }
  }

  counts.localActivityTasks = localActivityTasks.size;
  counts.total =
    counts.workflowStarts + counts.signals + counts.timers + counts.activities + counts.localActivityTasks + counts.searchAttributeUpserts + counts.updates + counts.other;
  return counts;
}

/** Adds action counts field by field. */
export function addActions(a: ActionCounts, b: ActionCounts): ActionCounts {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof ActionCounts)[]) {
    sum[key] += b[key];
  }
  return sum;
}
