/**
 * `application/x-www-form-urlencoded` bodies, for the OAuth endpoints only (RFC 6749 §3.2 and
 * RFC 7009 §2.1 require the form encoding). Every other route still answers 415 to a form.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { oauthFormBytesMax, oauthFormParametersMax } from "@bursar/core";
import { ProblemError } from "./problem.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route takes form-encoded bodies (OAuth endpoints). */
    acceptsForm?: boolean;
  }
}

/**
 * Parses a form into a null-prototype record. RFC 6749 §3.2: "Request and response parameters
 * MUST NOT be included more than once" — a repeated parameter is refused, since two parts of the
 * stack could otherwise each read a different one.
 */
export function parseForm(text: string): Record<string, string> {
  const params = new URLSearchParams(text);
  const form: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [name, value] of params) {
    if (++count > oauthFormParametersMax) throw new ProblemError("invalid_request", `At most ${oauthFormParametersMax} parameters are accepted.`);
    if (Object.hasOwn(form, name)) throw new ProblemError("invalid_request", `The parameter ${name} appears more than once.`);
    form[name] = value;
  }
  return form;
}

/** Installs the form parser (after the JSON one), limited to routes that opt in. */
export function installFormParser(app: FastifyInstance): void {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: oauthFormBytesMax }, (request: FastifyRequest, body, done) => {
    if (request.routeOptions.config.acceptsForm !== true) {
      done(new ProblemError("unsupported_media_type", "Send request bodies as application/json."), undefined);
      return;
    }
    try {
      done(null, parseForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
