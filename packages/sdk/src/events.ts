/** Narrowing events (from lists, streams and webhooks) to a known type. */
import type { BursarEvent, EventDataMap, EventOf } from "./types.ts";

/**
 * True when `event` has `type`; narrows its `data` to that type's shape.
 *
 * @example
 * for await (const event of bursar.events.stream()) {
 *   if (isEventType(event, "transfer.posted")) console.log(event.data.transfer.amount_display);
 * }
 */
export function isEventType<Type extends keyof EventDataMap>(event: BursarEvent, type: Type): event is EventOf<Type> {
  return event.type === type;
}
