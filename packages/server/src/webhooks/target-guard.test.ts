import { describe, expect, it } from "vitest";
import { checkWebhookTarget, isForbiddenAddress, parseWebhookUrl } from "./target-guard.js";

describe("webhook target guard", () => {
  it.each([
    ["127.0.0.1", true], ["127.255.0.9", true], ["10.1.2.3", true], ["172.16.0.1", true], ["172.31.255.255", true],
    ["192.168.0.10", true], ["169.254.169.254", true], ["100.64.0.1", true], ["0.0.0.0", true], ["224.0.0.251", true],
    ["255.255.255.255", true], ["::1", true], ["::", true], ["fd12::1", true], ["fe80::1", true], ["ff02::1", true],
    ["::ffff:127.0.0.1", true], ["::ffff:10.0.0.1", true], ["64:ff9b::a00:1", true],
    ["8.8.8.8", false], ["172.32.0.1", false], ["100.128.0.1", false], ["93.184.216.34", false], ["2606:4700::1111", false],
    ["::ffff:8.8.8.8", false], ["not-an-ip", true],
  ])("%s forbidden: %s", (address, forbidden) => {
    expect(isForbiddenAddress(address)).toBe(forbidden);
  });

  it("accepts only http(s) URLs without credentials", () => {
    expect(parseWebhookUrl("https://example.com/hook")).not.toBeNull();
    expect(parseWebhookUrl("http://example.com:8080/x?y=1")).not.toBeNull();
    for (const url of ["ftp://example.com", "file:///etc/passwd", "gopher://x", "https://u:p@example.com", "example.com", ""]) {
      expect(parseWebhookUrl(url), url).toBeNull();
    }
  });

  it("refuses hosts that resolve to loopback unless private targets are allowed", async () => {
    const url = new URL("http://localhost:9/");
    expect((await checkWebhookTarget(url, false)).ok).toBe(false);
    expect((await checkWebhookTarget(url, true)).ok).toBe(true);
    expect((await checkWebhookTarget(new URL("http://[::1]/"), false)).ok).toBe(false);
    expect((await checkWebhookTarget(new URL("http://nonexistent.invalid/"), true)).ok).toBe(false);
  });
});
