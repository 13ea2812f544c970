/**
 * The OpenAPI document of a server with every route module, and the error codes it documents per
 * operation (shared by test/openapi.test.ts and the problem-code check in test/global-setup.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { systemClock } from "@bursar/core";
import { loadConfig, openStore } from "@bursar/server";
import { buildApp } from "../packages/server/src/http/app.js";
import { routeDeps } from "../packages/server/src/routes/context.js";
import { routeModules } from "../packages/server/src/routes/index.js";

export type OpenApiDocument = { paths: Record<string, Record<string, any>>; [key: string]: any };

/** Builds the app on a throwaway SQLite store and returns `/openapi.json` as it would serve it. */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bursar-openapi-"));
  const store = await openStore(loadConfig({ dataDir: dir }, {}));
  const app = buildApp({ store, routes: routeModules, routeDeps: routeDeps(store, systemClock) });
  try {
    await app.ready();
    return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
  } finally {
    await app.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `METHOD /path/{param}` → the codes its error responses enumerate. */
export function documentedCodes(document: OpenApiDocument): Map<string, Set<string>> {
  const codes = new Map<string, Set<string>>();
  for (const [route, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const set = new Set<string>();
      for (const response of Object.values<any>(operation.responses ?? {})) {
        for (const media of Object.values<any>(response.content ?? {})) {
          for (const value of media.schema?.properties?.code?.enum ?? media.schema?.properties?.error?.enum ?? []) set.add(value);
        }
      }
      codes.set(`${method.toUpperCase()} ${route}`, set);
    }
  }
  return codes;
}

/** Fastify's `/v1/agents/:id` as OpenAPI's `/v1/agents/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}
