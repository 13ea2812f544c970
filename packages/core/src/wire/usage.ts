/** Wire schemas of `GET /v1/usage` (governance/usage.ts). */
import { z } from "zod";
import { clientIdLengthMax } from "../limits.js";
import { usageGroupings } from "../governance/usage.js";
import { timestamp } from "./common.js";

export const usageQuery = z.object({
  agent_id: z.string().max(clientIdLengthMax).optional().describe("Only this agent's spends (an agent credential: always its own)"),
  team_id: z.string().max(clientIdLengthMax).optional().describe("Only the spends of this team's members"),
  from: z.string().max(40).optional().describe("RFC 3339 date or time; rounded down to its UTC day. Default: 30 days before `to`"),
  to: z.string().max(40).optional().describe("RFC 3339 date (that day included) or time (rounded up to the end of its UTC day). Default: the end of today"),
  group_by: z.enum(usageGroupings).default("day").describe("The bucket: a UTC `day`, an `agent`, a `team`, a `payee` or an `operation`"),
});

const bucket = z.object({
  key: z.string().nullable().describe("The day (`YYYY-MM-DD`), agent id, team id (null: agents in no team), payee id (null: spends without a payee) or operation (a spend authorization's operation, `payment` or `service_request`); null in `totals`"),
  currency: z.string(),
  spent: z.number().int().describe("Settled, in minor units"),
  spent_display: z.string(),
  held: z.number().int().describe("Held now (waiting for an approval or a rail), in minor units"),
  held_display: z.string(),
  count: z.number().int().describe("Spends settled or held"),
  spent_count: z.number().int(),
  held_count: z.number().int(),
});

export const usage = z.object({
  object: z.literal("usage"),
  from: timestamp,
  to: timestamp.describe("Exclusive: the start of the day after the last one counted"),
  group_by: z.enum(usageGroupings),
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  data: z.array(bucket).describe("One bucket per key and currency, in key order; empty buckets are left out"),
  totals: z.array(bucket).describe("One per currency, over the whole range"),
  truncated: z.boolean().describe("True when there were more buckets than one answer holds; narrow the range or the filter"),
});
