/**
 * `/v1/mcp`: Bursar's MCP server over Streamable HTTP (MCP 2025-06-18 "Streamable HTTP"),
 * stateless: a new `McpServer` and transport per POST, JSON answers, so any server process can
 * answer any request.
 *
 * Who calls: the route declares `config.scopes: []`, so the caller authenticates exactly as on
 * every other route (an agent's DPoP token and proof, or an agent API key; owners too). Each
 * tool then runs through the SDK against this same app as that caller (a lent principal, see
 * `PrincipalDelegations` in http/auth.ts), so each tool needs the scope its route needs, acts for
 * the caller's agent only, and can never see another tenant.
 *
 * DNS rebinding (MCP "Streamable HTTP" security warning; RFC 6454 origins): a web page must not
 * reach this endpoint through a name it controls that resolves to us. With a public base URL
 * configured, the Host must be its host; without one, a loopback name. A browser's `Origin`, when
 * sent, must be the same origin. Credentials are required anyway; this is the second wall.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Bursar, type FetchLike } from "@bursar/sdk";
import { createBursarMcpServer } from "@bursar/mcp";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ProblemError, type ProblemCode } from "../http/problem.js";
import { baseUrlOf } from "../identity/urls.js";
import type { RouteModule } from "./context.js";

const loopbackHostnames = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * The start-up warning for a server that listens beyond loopback without a public base URL:
 * `/v1/mcp` would refuse every request whose Host is not a loopback name (`host_not_allowed`),
 * which is every remote client's. Null when the rule cannot bite.
 */
export function mcpHostWarning(config: { host: string; publicBaseUrl: string | null }): string | null {
  if (config.publicBaseUrl) return null;
  const host = config.host.replace(/^\[|\]$/g, "").toLowerCase();
  if (loopbackHostnames.has(host) || /^127\./.test(host)) return null;
  return `listening on ${config.host} without BURSAR_PUBLIC_BASE_URL: /v1/mcp answers only requests whose Host is a loopback name (127.0.0.1, localhost, [::1]) and refuses every other with 403 host_not_allowed (DNS-rebinding guard). Set BURSAR_PUBLIC_BASE_URL to the URL clients use.`;
}

/** Refuses a Host or Origin that is not ours (see the module comment). */
export function checkHostAndOrigin(request: FastifyRequest): void {
  const configured = request.server.publicBaseUrl;
  const host = (request.headers.host ?? "").toLowerCase();
  const hostname = host.replace(/:\d+$/, "");
  const allowed = configured ? new URL(configured).host.toLowerCase() === host : loopbackHostnames.has(hostname);
  if (!allowed) {
    throw new ProblemError("host_not_allowed", configured ? "The Host header is not this server's public host." : "Without BURSAR_PUBLIC_BASE_URL, /v1/mcp answers only on a loopback host name.");
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== baseUrlOf(request).toLowerCase()) {
    throw new ProblemError("origin_not_allowed", "Cross-origin requests to /v1/mcp are refused.");
  }
}

/** A fetch that answers from this app in process (`inject`), so the SDK's calls take the routes' own path. */
function injectFetch(app: FastifyInstance): FetchLike {
  return async (input, init) => {
    const url = new URL(input);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const answer = await app.inject({ method: (init.method ?? "GET") as "GET", url: url.pathname + url.search, headers, payload: typeof init.body === "string" ? init.body : undefined });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, String(one));
    }
    const empty = answer.statusCode === 204 || answer.statusCode === 304;
    return new Response(empty ? null : answer.rawPayload, { status: answer.statusCode, headers: responseHeaders });
  };
}

/** The request as a web-standard `Request` for the transport (the body is passed already parsed). */
function webRequestOf(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === "content-length" || name === "transfer-encoding" || name === "connection") continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : String(value));
  }
  return new Request(`http://bursar.internal${request.url}`, { method: "POST", headers });
}

const transportCodes: Record<number, ProblemCode> = { 400: "bad_request", 404: "route_not_found", 405: "method_not_allowed", 406: "not_acceptable", 415: "unsupported_media_type" };

function transportProblem(status: number, text: string): ProblemError {
  let detail = "The MCP request was refused.";
  try {
    detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
  } catch {
    // not JSON: keep the generic detail
  }
  return new ProblemError(transportCodes[status] ?? "bad_request", detail);
}

export const mcpRoutes: RouteModule = (app) => {
  app.post(
    "/v1/mcp",
    {
      schema: {
        tags: ["mcp"],
        summary: "MCP over Streamable HTTP (stateless, JSON answers): Bursar's tools as the caller",
        description:
          "Bursar's MCP server (MCP 2025-06-18 Streamable HTTP), stateless: each POST carries one JSON-RPC message and is answered in JSON; send `Accept: application/json, text/event-stream`. Each tool runs through the API as the caller, so it needs its route's scope and sees only the caller's tenant and agent (docs/integrations.md). DNS-rebinding guard: the `Host` must be the public base URL's host (or, without one, a loopback name) and an `Origin`, when sent, the server's own. `GET` and `DELETE` answer 405.",
      },
      config: {
        scopes: [],
        errors: ["host_not_allowed", "not_acceptable", "origin_not_allowed", "rate_limited"],
        example: { body: { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, headers: { accept: "application/json, text/event-stream" } },
      },
    },
    async (request, reply) => {
      checkHostAndOrigin(request);
      const lent = request.server.delegations.lend(request.principal);
      const bursar = new Bursar({ apiKey: lent.token, baseUrl: "http://bursar.internal", fetch: injectFetch(request.server) });
      const { tenantId, credentialId } = request.principal;
      const server = createBursarMcpServer({ bursar, idempotencyScope: `http:${tenantId}:${credentialId}`, approvalBaseUrl: baseUrlOf(request) });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      try {
        await server.connect(transport);
        const response = await transport.handleRequest(webRequestOf(request), { parsedBody: request.body });
        const text = await response.text();
        // The transport's own refusals (Accept, Content-Type, not JSON-RPC) are JSON-RPC errors;
        // answer them as problems like every other 4xx of this API (the JSON-RPC message kept).
        if (response.status >= 400) throw transportProblem(response.status, text);
        reply.code(response.status);
        if (text === "") return reply.send();
        return reply.type(response.headers.get("content-type") ?? "application/json").send(text);
      } finally {
        lent.release();
        await transport.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        await bursar.close();
      }
    },
  );
  // Stateless: no server-initiated stream (GET) and no session to end (DELETE). Those methods are
  // answered 405 with `Allow: POST` by the app (http/methods.ts), which MCP clients accept.
};
