/** `POST /v1/personal-access-tokens`: owner tokens (`bpat_…`) for the CLI and SDK. */
import type { PersonalAccessToken, PersonalAccessTokenCreateParams } from "../types.ts";
import { Resource, type CallOptions } from "./resource.ts";

export class PersonalAccessTokens extends Resource {
  /** The token is in the answer once. */
  create(params: PersonalAccessTokenCreateParams, options?: CallOptions): Promise<PersonalAccessToken> {
    return this.postJson("/v1/personal-access-tokens", params, options);
  }
}
