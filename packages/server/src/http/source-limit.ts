/**
 * Rate limits by source address for the routes that take writes without a credential: webhook
 * rail callbacks, registrations, `/oauth/token` and `/oauth/revoke` (issue 17, item 11). With no
 * credential to count against, a flood from one address could otherwise spend the server's CPU
 * on signature checks (callbacks, client assertions) and its store on writes. Same windows and
 * store as the credential limits (in memory, or Redis across processes); answers carry
 * `RateLimit-Policy: "source";q=N;w=60` and `RateLimit`, and past the limit 429 `rate_limited`.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isIP } from "node:net";
import { rateLimitHeaders } from "../identity/rate-limit.js";
import { ProblemError } from "./problem.js";

/**
 * The key an address counts under: an IPv4 address (IPv4-mapped IPv6 included) as itself, an
 * IPv6 address by its /64 — a single host usually holds a whole /64 and could otherwise take a
 * fresh address per request.
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head, tail = ""] = address.toLowerCase().split("::");
  const left = head === "" ? [] : head!.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** onRequest hook of public write routes (installed by `secureRoute`). */
export async function limitBySource(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { identity, clock } = request.server;
  const decision = await identity.rateLimiter.hit(`src:${sourceKey(request.ip)}`, identity.sourceRateLimitPerMinute, clock.nowMs());
  reply.headers(rateLimitHeaders(decision, "source"));
  if (!decision.allowed) {
    throw new ProblemError("rate_limited", `At most ${decision.limit} unauthenticated requests per minute from one address.`, {
      headers: { "retry-after": String(decision.resetSeconds) },
    });
  }
}
