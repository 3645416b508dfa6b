import { temporal } from '@temporalio/proto';

import { countActions } from '../../bench/temporal-actions';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type EventId = NonNullable<temporal.api.history.v1.IMarkerRecordedEventAttributes['workflowTaskCompletedEventId']>;

/** Event ids are Long in the generated types; protobufjs also accepts plain numbers, as here. */
function eventId(id: number): EventId {
  return id as unknown as EventId;
}

function event(eventType: temporal.api.enums.v1.EventType, attributes: Partial<HistoryEvent> = {}): HistoryEvent {
  return { eventType, ...attributes };
}

function localActivityMarker(workflowTaskCompletedEventId: number): HistoryEvent {
  return event(EventType.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: eventId(workflowTaskCompletedEventId) } });
}

describe('countActions', () => {
  it('counts local activities once per workflow task', () => {
    const counts = countActions([localActivityMarker(4), localActivityMarker(4), localActivityMarker(9)]);

    expect(counts.localActivityTasks).toBe(2);
    expect(counts.total).toBe(2);
  });

  it('ignores markers of other kinds', () => {
    const patch = event(EventType.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: 'core_patch', workflowTaskCompletedEventId: eventId(4) } });

    expect(countActions([patch]).total).toBe(0);
  });

  it('counts activity retries from the attempt', () => {
    const counts = countActions([
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 3 } }),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
    ]);

    expect(counts.activities).toBe(3);
    expect(counts.total).toBe(3);
  });

  it('counts a mailbox-like history', () => {
    const counts = countActions([
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      localActivityMarker(4),
      event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
      event(EventType.EVENT_TYPE_TIMER_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
      event(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
      event(EventType.EVENT_TYPE_TIMER_FIRED),
    ]);

    expect(counts).toEqual({
      workflowStarts: 1,
      signals: 1,
      timers: 1,
      activities: 0,
      localActivityTasks: 1,
      searchAttributeUpserts: 1,
      updates: 1,
      other: 2,
      total: 8,
    });
  });
});
