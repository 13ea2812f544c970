/** The sandbox rail for payees that ask for a delay (without one, the core settles inline). */
import { setTimeout as sleep } from "node:timers/promises";
import { sandboxBehaviour, sandboxOutcome, type Rail } from "@bursar/core";

export const sandboxRail: Rail = {
  name: "sandbox",
  async execute(payment, signal) {
    const behaviour = sandboxBehaviour(payment.payee.railDetails);
    await sleep(behaviour.delayMs, undefined, { signal });
    return sandboxOutcome(behaviour, payment.transactionId);
  },
};
