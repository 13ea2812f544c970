/** Wire schemas of the owner console: sessions, members and invites. */
import { z } from "zod";
import { memberNameLengthMax } from "../limits.js";
import { memberRoles } from "../console/roles.js";
import { timestamp } from "./common.js";

/** A console secret (login code, invite, PAT): bounded, opaque. */
const secret = z.string().min(1).max(512);

export const memberRole = z.enum(memberRoles);

export const member = z.object({
  id: z.string(),
  object: z.literal("member"),
  name: z.string(),
  email: z.string().nullable(),
  role: memberRole,
  scopes: z.array(z.string()),
  status: z.enum(["active", "removed"]),
  created_at: timestamp,
  removed_at: timestamp.nullable(),
});

export const memberList = z.object({ object: z.literal("list"), data: z.array(member) });

export const createConsoleSessionBody = z.union([
  z.object({ login_code: secret }).strict(),
  z.object({ personal_access_token: secret }).strict(),
]);

export const consoleSession = z.object({
  id: z.string(),
  object: z.literal("console_session"),
  tenant_id: z.string(),
  csrf_token: z.string().describe("Send back in X-CSRF-Token on every mutation"),
  scopes: z.array(z.string()),
  member,
  expires_at: timestamp,
});

export const acceptInviteBody = z.object({
  code: secret,
  name: z.string().min(1).max(memberNameLengthMax),
  email: z.string().email().max(memberNameLengthMax).optional(),
}).strict();

export const createInviteBody = z.object({
  role: memberRole,
  expires_in: z.number().int().min(60).max(7 * 24 * 3600).optional().describe("Seconds; at most 7 days (the default)"),
}).strict();

export const invite = z.object({
  id: z.string(),
  object: z.literal("invite"),
  role: memberRole,
  code: z.string().nullable().describe("Shown once; null when an idempotent replay answers"),
  url: z.string().nullable().describe("The one-time link to send the new member; shown once"),
  expires_at: timestamp,
});

export const changeMemberBody = z.object({ role: memberRole }).strict();
