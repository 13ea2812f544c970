/**
 * The URLs clients use to reach us. Behind a proxy, set `publicBaseUrl`: it is the issuer, the
 * base of the token endpoint, and the base DPoP `htu` values are checked against. Without it, the
 * request's own scheme and Host are used (fine on loopback and in tests; a client-chosen Host
 * cannot hurt much, since a proof also has to cover our token via `ath`, but pin it in production).
 */
import type { FastifyRequest } from "fastify";

/** The base URL (no trailing slash): the OAuth issuer identifier. */
export function baseUrlOf(request: FastifyRequest): string {
  const configured = request.server.publicBaseUrl;
  if (configured) return configured.replace(/\/+$/, "");
  return `${request.protocol}://${request.host}`;
}

/** The URL of this request without query and fragment (what DPoP `htu` must name). */
export function requestTargetOf(request: FastifyRequest): string {
  const path = request.url.split("?")[0]!.split("#")[0]!;
  return baseUrlOf(request) + path;
}
