/** The service catalog and governed, priced service requests (SPEC 2.4). */
import { TimeoutError } from "../errors.ts";
import { sleep } from "../transport.ts";
import type { Page } from "../pagination.ts";
import type { PageBody, RecordListParams, Service, ServiceRequest, ServiceRequestCreateParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Services extends Resource {
  /** Built-in and registered services, their operations, prices and input schemas. */
  async list(options?: CallOptions): Promise<Service[]> {
    return (await this.getJson<PageBody<Service>>("/v1/services", undefined, options)).data;
  }
  /** By id or name. */
  get(idOrName: string, options?: CallOptions): Promise<Service> {
    return this.getJson(`/v1/services/${segment(idOrName)}`, undefined, options);
  }
}

export class ServiceRequests extends Resource {
  /** Decided by policy and budget, held, run: `executed`, `blocked`, `approval_required`, `failed` or `running`. */
  create(params: ServiceRequestCreateParams, options?: CallOptions): Promise<ServiceRequest> {
    return this.postJson("/v1/service-requests", params, options);
  }
  get(id: string, options?: CallOptions): Promise<ServiceRequest> {
    return this.getJson(`/v1/service-requests/${segment(id)}`, undefined, options);
  }
  list(params: RecordListParams = {}, options?: CallOptions): Promise<Page<ServiceRequest>> {
    return this.paginate("/v1/service-requests", { ...params }, options);
  }
  /**
   * Creates the request and polls while it is `running` (not while it waits for an approval:
   * that is a human's time, returned at once). Throws `TimeoutError` after `waitMs`.
   * @example const { status, result } = await bursar.serviceRequests.createAndWait({ service: "sandbox", operation: "echo", payload: { text: "hi" } });
   */
  async createAndWait(params: ServiceRequestCreateParams, options: CallOptions & { waitMs?: number; pollMs?: number } = {}): Promise<ServiceRequest> {
    const { waitMs = 60_000, pollMs = 250, ...callOptions } = options;
    const deadline = Date.now() + waitMs;
    let request = await this.create(params, callOptions);
    while (request.status === "running") {
      if (Date.now() >= deadline) throw new TimeoutError(`service request ${request.id} still running after ${waitMs} ms`);
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), callOptions.signal);
      request = await this.get(request.id, { signal: callOptions.signal, timeoutMs: callOptions.timeoutMs });
    }
    return request;
  }
}
