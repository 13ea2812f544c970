/**
 * Identifiers: a type prefix and a ULID-style body (48-bit millisecond time, 80 random bits,
 * Crockford base32), so ids sort by creation time and carry their type (SPEC 3 "IDs").
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdPrefix =
  | "ten" | "usr" | "agt" | "cb" | "key" | "acc" | "tr" | "pay" | "pol" | "bud" | "apr" | "pi"
  | "txn" | "sr" | "svc" | "conv" | "evt" | "whe" | "whd" | "pat" | "req" | "bat" | "tkt" | "rft" | "rff"
  | "sa" | "cap" | "vnd" | "sk"
  | "cs" | "lc" | "team" | "breq";

/**
 * Random bytes are drawn in blocks: one getRandomValues call per id cost more than the rest of
 * id generation together. The pool is refilled from the CSPRNG; no byte is used twice.
 */
const randomPoolBytes = 4096;
const randomPool = new Uint8Array(randomPoolBytes);
let randomPoolOffset = randomPoolBytes;

function randomBytes(count: number): Uint8Array {
  if (randomPoolOffset + count > randomPoolBytes) {
    crypto.getRandomValues(randomPool);
    randomPoolOffset = 0;
  }
  const bytes = randomPool.subarray(randomPoolOffset, randomPoolOffset + count);
  randomPoolOffset += count;
  return bytes;
}

/** The last id's time and random digits: ids made in one millisecond count up from there. */
let lastTimeMs = -1;
const lastDigits = new Array<number>(16).fill(0);

/**
 * Returns a new id such as `acc_01JD3Z4Y8K2M4N6P8R0T2V4X6Z`. Within a process ids are strictly
 * increasing (ULID's monotonic mode): in the same millisecond, or if the clock steps back, the
 * random part of the previous id is incremented, so "newest first" never depends on chance.
 */
export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  if (nowMs > lastTimeMs) {
    lastTimeMs = nowMs;
    const random = randomBytes(16);
    for (let i = 0; i < 16; i++) lastDigits[i] = random[i]! % 32;
  } else {
    let i = 15;
    while (lastDigits[i] === 31) lastDigits[i--] = 0;
    lastDigits[i]! += 1;
  }
  let time = "";
  let t = lastTimeMs;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let body = "";
  for (let i = 0; i < 16; i++) body += alphabet[lastDigits[i]!];
  return `${prefix}_${time}${body}`;
}

/** Random secret with a prefix, e.g. `bpat_…`; 256 bits of entropy, base64url. */
export function newSecret(prefix: string): string {
  const random = new Uint8Array(32);
  crypto.getRandomValues(random);
  return `${prefix}_${Buffer.from(random).toString("base64url")}`;
}
