/** `/v1/credential-bindings`: owners list agents' registered keys and revoke them. */
import type { Page } from "../pagination.ts";
import type { CredentialBinding, PageParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class CredentialBindings extends Resource {
  list(params: PageParams & { agent_id?: string } = {}, options?: CallOptions): Promise<Page<CredentialBinding>> {
    return this.paginate("/v1/credential-bindings", { ...params }, options);
  }
  /** Revokes at once: the agent's tokens stop working on their next request. */
  delete(id: string, options?: CallOptions): Promise<CredentialBinding> {
    return this.deleteJson(`/v1/credential-bindings/${segment(id)}`, options);
  }
  /** The same as `delete`, by its effect's name. */
  revoke(id: string, options?: CallOptions): Promise<CredentialBinding> {
    return this.delete(id, options);
  }
}
