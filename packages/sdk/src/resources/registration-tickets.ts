/** `POST /v1/registration-tickets`: an owner mints a one-time ticket for one agent. */
import type { RegistrationTicket, RegistrationTicketCreateParams } from "../types.ts";
import { Resource, type CallOptions } from "./resource.ts";

export class RegistrationTickets extends Resource {
  /**
   * The ticket (`bursar-reg_…`) is in the answer once; hand it to the agent host, which calls
   * `register({ ticket })`.
   *
   * @example const { ticket } = await owner.registrationTickets.create({ agent_id, scopes: ["agents:execute"] });
   */
  create(params: RegistrationTicketCreateParams, options?: CallOptions): Promise<RegistrationTicket> {
    return this.postJson("/v1/registration-tickets", params, options);
  }
}
