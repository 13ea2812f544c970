/**
 * DPoP-Nonce (RFC 9449 §8), off unless configured. Nonces are stateless: a time slot and an HMAC
 * of it under a key derived from the server's signing key, so every process that shares the
 * store issues and accepts the same nonces. A nonce is good in its slot and the next one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { dpopNonceLifetimeSecondsMax, type Clock } from "@bursar/core";

export class DpopNonces {
  constructor(
    private readonly secret: Buffer,
    private readonly clock: Clock,
  ) {}

  /** Derives the nonce key from the signing key's PKCS#8 bytes (domain-separated). */
  static fromSigningKey(privateKeyPkcs8: Uint8Array, clock: Clock): DpopNonces {
    return new DpopNonces(createHmac("sha256", Buffer.from(privateKeyPkcs8)).update("bursar dpop-nonce v1").digest(), clock);
  }

  private slot(nowMs: number): number {
    return Math.floor(nowMs / 1000 / dpopNonceLifetimeSecondsMax);
  }

  private forSlot(slot: number): string {
    return `${slot.toString(36)}.${createHmac("sha256", this.secret).update(String(slot)).digest("base64url")}`;
  }

  /** The nonce to send now. */
  current(): string {
    return this.forSlot(this.slot(this.clock.nowMs()));
  }

  /** True when `nonce` is this slot's or the previous one's. */
  isValid(nonce: unknown): boolean {
    if (typeof nonce !== "string") return false;
    const now = this.slot(this.clock.nowMs());
    return [now, now - 1].some((slot) => {
      const expected = Buffer.from(this.forSlot(slot));
      const given = Buffer.from(nonce);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}
