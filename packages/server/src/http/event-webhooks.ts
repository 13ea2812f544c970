/**
 * The OpenAPI 3.1 `webhooks` section: one entry per event type of core's event catalog, with the
 * JSON Schema of the event a receiver gets (the envelope of `wire.event`, its `type` fixed and its
 * `data` as the catalog says). Generated, never written by hand: a type added to the catalog
 * appears here.
 */
import { z } from "zod";
import { eventCatalog, knownEventTypes, wire } from "@bursar/core";

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses) of one event type's body. */
export function eventSchema(type: string): Record<string, unknown> {
  const data = eventCatalog[type];
  if (!data) throw new Error(`unknown event type ${type}`);
  const schema = z.toJSONSchema(wire.event.extend({ type: z.literal(type), data }), { target: "draft-2020-12", io: "output", unrepresentable: "any" }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}

/** `webhooks` of the OpenAPI document: what Bursar POSTs to an endpoint for each event type. */
export function eventWebhooks(): Record<string, object> {
  return Object.fromEntries(
    knownEventTypes().map((type) => [
      type,
      {
        post: {
          summary: `Event ${type}`,
          description:
            "Delivered to webhook endpoints subscribed to this type, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); " +
            "the same body is a journal entry and an item of `GET /v1/events`. `data` is keyed by the type of the object the event is about.",
          tags: ["events"],
          requestBody: { required: true, content: { "application/json": { schema: eventSchema(type) } } },
          responses: { "2XX": { description: "Received. Any other answer, or none in time, is retried with backoff; 410 Gone disables the endpoint." } },
        },
      },
    ]),
  );
}
