/**
 * Idempotency claims that die with their process (issue 17, item 10).
 *
 * A claim (`idempotency_keys.state = 'in_progress'`) is a durable row written before the work
 * runs, in a transaction of its own, so a second request with the same key sees it and answers
 * 409 `idempotency_key_in_use`. If the process dies (SIGKILL, OOM, a lost host) between the claim
 * and the answer, the row stays, and nothing in it says whether its owner is alive: with several
 * processes on one PostgreSQL a restart cannot release "its" claims, so retries answered 409
 * until `idempotencyClaimTimeoutMs` (60 s) passed.
 *
 * Each store therefore holds one session-level advisory lock, on a connection of its own, for as
 * long as it is open: `pg_advisory_lock(claimOwnerLockClass, key)` with a random `key` no other
 * live process holds. Every claim it makes records that key (`owner_key`). PostgreSQL releases
 * session locks when the session ends, and a session ends when its process dies: the kernel
 * closes the socket and the backend exits. A claim whose owner key has no granted lock in
 * `pg_locks` is dead, and the claiming statement takes it over at once (postgres-sql.ts).
 *
 * If the owner connection itself breaks while the process lives (a network cut, a PostgreSQL
 * restart), the claims made under its key look dead to other processes for the requests still in
 * flight here; a retry elsewhere in that window could run such a request again. The owner
 * reconnects under a fresh key and, until it has one, claims carry no owner and fall back to the
 * timeout. That window needs both a broken database connection and a retry with the same key at
 * that moment; it is the price of never blocking a key for a minute after a crash.
 */
import pg from "pg";

/** First key of the two-key advisory lock: "BURS" in ASCII, so the locks are recognisable in `pg_locks`. */
export const claimOwnerLockClass = 0x42555253;

/** Pause before the owner connection reconnects after losing its session. */
export const claimOwnerReconnectMs = 1000;

/** Random keys tried before giving up (a collision with a live process is one in 2^31 per try). */
const keyAttemptsMax = 8;

/** The owner key of a store's claims: a session advisory lock held on a dedicated connection. */
export class ClaimOwner {
  private client: pg.Client | null = null;
  private currentKey: number | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly connectionString: string) {}

  /** Opens the owner connection and takes a key. */
  static async open(connectionString: string): Promise<ClaimOwner> {
    const owner = new ClaimOwner(connectionString);
    await owner.connect();
    return owner;
  }

  /** The key claims are recorded under, or null while the owner connection is down. */
  get key(): number | null {
    return this.currentKey;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: "bursar-claim-owner" });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    await client.connect();
    for (let attempt = 0; attempt < keyAttemptsMax; attempt++) {
      const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
      const taken = await client.query("SELECT pg_try_advisory_lock($1, $2) AS locked", [claimOwnerLockClass, key]);
      if ((taken.rows[0] as { locked: boolean }).locked) {
        this.client = client;
        this.currentKey = key;
        return;
      }
    }
    await client.end();
    throw new Error("no free idempotency claim owner key");
  }

  /** The session is gone: its claims are dead to everyone; reconnect under a new key. */
  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.currentKey = null;
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.connect().catch(() => this.scheduleReconnect());
    }, claimOwnerReconnectMs);
    this.reconnectTimer.unref();
  }

  /** Ends the session, which releases the lock. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.currentKey = null;
    await client?.end().catch(() => undefined);
  }
}
