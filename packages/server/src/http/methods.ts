/**
 * 405 Method Not Allowed (RFC 9110 §15.5.6): a request whose path names a resource but whose
 * method that resource does not have is answered 405 with an `Allow` header listing the methods
 * it has, rather than a 404 that says the resource does not exist. Methods no route uses at all
 * (`PROPFIND`, `TRACE`, …) get the same answer; methods HTTP does not know never get this far
 * (the parser answers 501, see client-errors.ts).
 */
import type { RouteOptions } from "fastify";

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/** Every route's path pattern and methods, collected as routes are added (root onRoute hook). */
export class RouteMethods {
  private readonly paths = new Map<string, KnownPath>();

  /** onRoute hook. `:param` matches one segment, `*` the rest of the path. */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let known = this.paths.get(route.url);
    if (!known) {
      const source = route.url
        .split("/")
        .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      known = { pattern: new RegExp(`^${source}/?$`), methods: new Set() };
      this.paths.set(route.url, known);
    }
    for (const method of methods) known.methods.add(method);
  };

  /** The methods the path has, sorted; empty when no route matches the path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const known of this.paths.values()) {
      if (known.pattern.test(path)) for (const method of known.methods) methods.add(method);
    }
    return [...methods].sort();
  }
}
