/**
 * Every bound in Bursar, in one place (TigerBeetle's TIGER_STYLE: "put a limit on everything").
 * Each constant says why it has the value it has. `checkLimits()` runs at start-up and fails
 * fast when two bounds contradict each other.
 */

/** Entries in one policy allow/block list (payees, currencies, services): a human-maintained list. */
export const policyListEntriesMax = 1_000;

/** Aliases of one payee ("Bob", "Robert Smith"): what an agent may call them in plain words. */
export const payeeAliasesMax = 20;
/** Payees one name may match before the lookup stops counting (an ambiguous name lists these). */
export const payeeMatchesMax = 10;
/** Legs (`instructions`) of one payment intent. */
export const paymentInstructionsMax = 20;
/** Budgets of one agent (one per period and currency is the usual shape). */
export const budgetsPerAgentMax = 16;
/** Agents of one team: a team is a group people manage by hand, and a pool decision sums every member's spends. */
export const teamMembersMax = 200;
/** Managers of one team: a few people who allocate its pools and decide its budget requests. */
export const teamManagersMax = 20;
/** Pools of one team: one per period and currency (four periods, a few currencies). */
export const teamPoolsMax = 16;
/** Allocations of one team (agent, period, currency): stored in the team's one record, so bounded by its members and pools. */
export const teamAllocationsMax = 400;
/** Teams of one tenant. */
export const teamsPerTenantMax = 1_000;
/**
 * How deep agents may spawn agents (issue 15): an owner's agent is depth 0, its child 1, and a
 * child of depth 3 cannot spawn. Each level adds the parent's windows to every decision of its
 * descendants, so the bound also bounds the work of one decision.
 */
export const spawnDepthMax = 3;
/** Descendants of one agent (children, grandchildren, ...): a parent's window sums them all on every decision. */
export const agentDescendantsMax = 50;
/** Pending budget requests of one agent: it waits for a decision, it does not flood the managers. */
export const budgetRequestsPendingPerAgentMax = 10;
/** Characters of a budget request's `reason`: a sentence or two for the person deciding. */
export const budgetRequestReasonLengthMax = 1_000;
/** Longest operation name or pattern of a spend authorization (`stripe.charges.create`). */
export const operationNameLengthMax = 128;
/** Default life of a spend authorization: long enough for one paid call, short enough that a forgotten hold comes back soon. */
export const spendAuthorizationExpirySecondsDefault = 15 * 60;
/** Longest life of a spend authorization a caller may ask for: a day; the money stays held meanwhile. */
export const spendAuthorizationExpirySecondsMax = 24 * 60 * 60;
/** Longest a capability may stay valid: 90 days, after which the owner mints a new one. */
export const capabilityLifetimeSecondsMax = 90 * 24 * 60 * 60;
/** Most uses a capability may allow. */
export const capabilityUsesMax = 1_000_000;
/** Longest capability token accepted: its header, terms and signature fit easily. */
export const capabilityTokenLengthMax = 8 * 1024;
/** Bytes of an authorization's or completion's `evidence` JSON: a receipt, not a document store. */
export const spendEvidenceBytesMax = 8 * 1024;
/** Time a rail has to report a payment's outcome before the payment fails and its hold is released. */
export const railTimeoutSecondsDefault = 5 * 60;
/** Extra life of a payment hold past its approval and rail deadlines, so the governance sweeper always acts first. */
export const holdGraceSeconds = 10 * 60;
/** Default approval expiry of a policy that does not set one: one day. */
export const approvalExpirySecondsDefault = 24 * 60 * 60;
/**
 * The default policy of an agent no owner has given one (governance/policies.ts): it may spend,
 * but little, until an owner decides more. In major units of the wallet's currency (100.00 GBP,
 * 100 JPY), so the bound means the same whatever the currency's exponent.
 */
export const defaultPolicyTransactionAmountMaxMajor = 100;
/** The default policy's rolling 24-hour spending limit, major units (see above). */
export const defaultPolicyDailyAmountMaxMajor = 250;
/** Longest approval expiry: a week; the money stays held meanwhile. */
export const approvalExpirySecondsMax = 7 * 24 * 60 * 60;
/** Approvals, rail deadlines and running requests one sweep settles. */
export const governanceSweepCountMax = 100;
/**
 * Console sessions (console/sessions.ts). A session is a bearer cookie: it lives a working day,
 * then the owner signs in again; a stolen one is useless by the next morning.
 */
export const consoleSessionLifetimeSecondsMax = 12 * 60 * 60;
/** The one-time login link `bursar serve` prints: long enough to click, short enough that a scrollback leak is stale. */
export const consoleLoginCodeLifetimeSecondsMax = 15 * 60;
/** A member invite link: a few days to be accepted, then the inviter makes a new one. */
export const consoleInviteLifetimeSecondsMax = 7 * 24 * 60 * 60;
/** Members of one tenant (the member list is read whole). */
export const tenantMembersMax = 200;
/** Open sessions a member may hold at once; signing in beyond it ends the oldest. */
export const consoleSessionsPerUserMax = 20;
/** A member's display name or e-mail address. */
export const memberNameLengthMax = 200;
/** Delay a sandbox payee may ask for (tests of slow rails). */
export const sandboxDelayMsMax = 60_000;
/**
 * Body of a webhook-rail callback: a transaction id, a status and two short strings fit in a few
 * hundred bytes; anything larger is refused before it is parsed or its signature computed.
 */
export const railCallbackBodyBytesMax = 4 * 1024;
/**
 * Age (either way) of a signed callback's `webhook-timestamp`: the Standard Webhooks reference
 * tolerance. A captured callback cannot be replayed later than this (replays inside it are
 * harmless: settling is idempotent).
 */
export const railCallbackAgeSecondsMax = 5 * 60;
/** An executor's `rail_reference` (its own id for the payment): shown in the transaction. */
export const railReferenceLengthMax = 200;
/** An executor's failure `reason`: a snake_case code, like Bursar's own. */
export const railFailureReasonLengthMax = 64;
/** Longest secret-rotation overlap of a rail configuration: the old secret stays valid this long at most. */
export const railSecretOverlapSecondsMax = 7 * 24 * 60 * 60;

// --- Services and service requests (SPEC 2.4, docs/services.md) ---

/** Services one tenant registers: the catalog is read whole (no pagination), so it must stay short. */
export const servicesPerTenantMax = 100;
/** Operations of one service. */
export const serviceOperationsMax = 20;
/** Service and operation names: short identifiers an agent types (`weather.forecast`). */
export const serviceNameLengthMax = 64;
/**
 * An operation's input JSON Schema, as JSON bytes. Schemas are compiled to code (ajv), so their
 * size bounds compile time and memory; 16 KiB is a generous hand-written schema.
 */
export const serviceInputSchemaBytesMax = 16 * 1024;
/** A service request's payload, as JSON bytes: stored with the request and journaled. */
export const servicePayloadBytesMax = 16 * 1024;
/** An operation's result, as JSON bytes: a larger HTTP answer fails the request (it is journaled). */
export const serviceResultBytesMax = 16 * 1024;
/** Payload validation errors reported in a problem's `errors` (ajv collects all of them). */
export const servicePayloadErrorsMax = 20;
/** Compiled input schemas kept per server process (least recently used dropped first). */
export const serviceSchemaCacheEntriesMax = 1000;
/** Time one HTTP call of a tenant's operation may take, connect to last byte (server config may lower it). */
export const serviceCallTimeoutMsDefault = 10_000;
/** Longest call timeout a tenant may give one operation (`timeout_ms`). */
export const serviceCallTimeoutMsMax = 60_000;
/** How long `POST /v1/service-requests` waits for an HTTP operation before answering 202 `running`. */
export const serviceRequestWaitMsDefault = 5_000;
/**
 * Longest life of a principal lent to one MCP-over-HTTP request (`bdlg_…`, server
 * http/auth.ts): the request releases it when it ends; this bound ends it even if a bug or a
 * stuck tool never does. Above the longest tool wait (a service call's timeout) so a slow
 * governed call still completes.
 */
export const delegationLifetimeMsMax = 2 * 60_000;
/** Principals lent at once (one per MCP request in flight): beyond it `/v1/mcp` answers 429 `rate_limited` rather than grow without bound. */
export const delegationsLentMax = 10_000;
/** How long `sandbox.slow` takes (server config may change it; tests shorten it). */
export const sandboxSlowDelayMsDefault = 2_000;
/**
 * A running request's deadline: past it the sweeper fails the request and releases its hold
 * (a runner that crashed mid-call never reports). Well above the call timeout and the slow delay.
 */
export const serviceRequestDeadlineSeconds = 5 * 60;

// --- Escrow intents and predicates (docs/escrow.md) ---

/** Client-chosen escrow intent ids (`int_…`): the id is the idempotency key, so it is bounded like other client ids. */
export const escrowIntentIdLengthMax = 64;
/**
 * Latest deadline of an escrow intent, from its creation: 30 days. Funding posts the money into the
 * escrow account, so no ledger hold has to outlive the deadline; the bound keeps money from being
 * parked in escrow indefinitely.
 */
export const escrowDeadlineSecondsMax = 30 * 24 * 60 * 60;
/** How long a disputed intent waits for an owner's decision after its deadline before it is refunded. */
export const escrowDisputeDecisionSecondsMax = 7 * 24 * 60 * 60;
/** An intent's evidence JSON Schema, as JSON bytes: compiled by ajv, so bounded like service input schemas. */
export const escrowEvidenceSchemaBytesMax = 16 * 1024;
/** Nesting depth of an evidence schema: ajv compiles recursively. */
export const escrowEvidenceSchemaDepthMax = 12;
/** Evidence payload, as JSON bytes: a report's structured summary, not the report (artifacts carry digests). */
export const escrowEvidencePayloadBytesMax = 32 * 1024;
/** Artifacts (digest, uri, media type) one evidence submission lists. */
export const escrowEvidenceArtifactsMax = 32;
/** Evidence submissions one intent accepts (passing or failing): a payee retries a few times, never forever. */
export const escrowEvidenceAttemptsMax = 10;
/**
 * Age (either way) of an evidence `submitted_at`: a signed body captured in transit cannot be
 * replayed later than this (inside it, the same body answers the first result).
 */
export const escrowEvidenceSkewSecondsMax = 5 * 60;
/** Operation patterns an intent's work may spend on (its capability's `allowed_operations`). */
export const escrowAllowedOperationsMax = 50;
/**
 * Characters of one JSON Schema `pattern` (or `patternProperties` key) in a tenant's schema. The
 * linear-time engine bounds the time per input character; this bounds the automaton.
 */
export const schemaPatternLengthMax = 256;
/**
 * Failed payouts an escrow intent keeps on record (`failed_payouts`, newest last). Each failure
 * puts the money back in escrow and a new release is a deliberate call, so the record is for the
 * owner to read, and the oldest entries are dropped rather than growing the row without bound.
 */
export const escrowFailedPayoutsKeptMax = 10;
/** Escrow intents of one payee a reputation receipt reads: the receipt says when it stopped short. */
export const reputationIntentsMax = 10_000;

// --- Tasks (docs/tasks.md) ---

/** Acceptance criteria of one task: a checklist a reviewer reads, not a specification. */
export const taskAcceptanceCriteriaMax = 50;
/** Labels of one task, and the length of each. */
export const taskLabelsMax = 20;
export const taskLabelLengthMax = 64;
/** Links of one task (issue, design doc, ...). */
export const taskLinksMax = 20;
/** URLs in tasks (links, artifacts, CI check pages): long enough for a signed CI log URL. */
export const taskUrlLengthMax = 2048;
/** Long text of a task (description, summaries, review comment bodies): a page of prose. */
export const taskTextLengthMax = 16 * 1024;
/** Artifacts of one submission (pull requests, commits, docs, CI runs). */
export const taskArtifactsMax = 32;
/** Check names a submission requires, and checks one CI report carries. */
export const taskChecksMax = 100;
/** CI reports a task keeps (newest win): enough to see a flaky run's history, bounded per task. */
export const taskCiReportsKeptMax = 50;
/** Reviews one task accepts: every review is kept, so the count is bounded, not truncated. */
export const taskReviewsMax = 50;
/** Comments of one review. */
export const taskReviewCommentsMax = 100;
/** Nodes (operators and operands) of one predicate: hand-written rules are tens of nodes. */
export const predicateNodesMax = 256;
/** Nesting depth of a predicate's AST (operators inside operators). */
export const predicateDepthMax = 12;
/** Children of one `and` / `or`. */
export const predicateArgsMax = 32;
/** Options of one `in`. */
export const predicateInOptionsMax = 64;
/** Bytes of one constant operand or `in` option, as JSON. */
export const predicateConstantBytesMax = 1024;
/** Nesting of one constant operand or `in` option (`[1, 2]` is 1, `{"a": [1]}` is 2): constants are values to compare with, not documents. */
export const predicateConstantDepthMax = 4;
/** Characters of one JSON Pointer operand (RFC 6901). */
export const predicatePointerLengthMax = 256;
/** Reference tokens of one JSON Pointer. */
export const predicatePointerTokensMax = 32;
/**
 * Evaluation steps of one predicate over one evidence document (each node, operand, array element
 * visited and value compared costs one). `all`/`any` nest, so array work multiplies; past this the
 * evaluation stops and fails with `work_limit_exceeded` instead of running on.
 */
export const predicateStepsMax = 100_000;
/** Depth to which two values are compared for equality (evidence is also depth-bounded on the wire). */
export const predicateValueDepthMax = 64;

/** Largest amount of one transfer or deposit, in minor units (SPEC 1: "never above 10^15"). */
export const amountMinorMax = 1_000_000_000_000_000;

/**
 * Largest value any balance field may reach. Balances are JS numbers, exact up to 2^53 - 1;
 * a transfer that would push a field past this is refused with an `overflows_*` code instead
 * of silently losing precision.
 */
export const balanceMinorMax = Number.MAX_SAFE_INTEGER;

/** Request body size. Transfers are small; 256 KiB leaves room for batches without inviting abuse. */
export const requestBodyBytesMax = 256 * 1024;

/** JSON nesting depth. Our deepest schema nests 4 levels; deep nesting is a parser-DoS vector. */
export const jsonDepthMax = 16;
/**
 * JSON nesting of request bodies that carry a predicate (`POST /v1/escrow-intents`,
 * `/v1/predicates/test`): deep enough that the predicate's own limits decide, so a predicate at
 * `predicateDepthMax` is accepted and one a level deeper is refused `predicate_invalid`, not
 * `json_too_deep`. An `and`/`or` costs two JSON levels per predicate level (its object and its
 * `args` array); one level past the maximum, its constants, and the body and `predicate`
 * envelope (2) on top. Deeper still is `json_too_deep` as everywhere.
 */
export const predicateBodyJsonDepthMax = 2 + 2 * (predicateDepthMax + 1) + predicateConstantDepthMax;

/** Page size of every list endpoint (SPEC 3 "Pagination": default 20, max 100). */
export const pageLimitMax = 100;
export const pageLimitDefault = 20;

/** Transfers in one atomic batch: bounded so one request cannot hold the writer for long. */
export const transferBatchCountMax = 100;

/** Free-text fields (names, references, descriptions). */
export const stringLengthMax = 512;

/** Keys in a metadata object, and the length of each key and value. */
export const metadataKeysMax = 20;
export const metadataKeyLengthMax = 40;
export const metadataValueLengthMax = 500;

/** Client-supplied ids (transfer ids), prefix included. */
export const clientIdLengthMax = 64;

/** Idempotency-Key header length (SPEC 3 "Idempotency": 1-255 chars). */
export const idempotencyKeyLengthMax = 255;

/** How long an idempotency record is kept (SPEC: at least 24 h). */
export const idempotencyRetentionMs = 24 * 60 * 60 * 1000;

/**
 * How long an in-flight idempotency claim blocks a duplicate. A claim older than this belongs to
 * a request that crashed mid-flight; the key may then be used again.
 */
export const idempotencyClaimTimeoutMs = 60 * 1000;

/** Hold (pending transfer) lifetime: at least one second, at most 30 days. */
export const holdTimeoutSecondsMin = 1;
export const holdTimeoutSecondsMax = 30 * 24 * 60 * 60;

/** Operations grouped into one durable commit (SQLite group commit). */
export const commitBatchOperationsMax = 256;

/**
 * Window sums read together by one policy decision (`sumSpendWindows`): one per policy period
 * (4 today), so one UNION ALL statement stays small.
 */
export const spendWindowsPerReadMax = 8;

/** Expired holds released per sweep, so one sweep never holds the writer for long. */
export const holdExpirySweepCountMax = 100;

/** Journal entries per page of `/v1/journal/entries`. */
export const journalEntriesPageMax = 1000;

/** Journal size per tenant: the Merkle tree uses 2^k indexes that must stay exact integers. */
export const journalSizeMax = 2 ** 48;

/**
 * Longest signed note accepted. Signed-note verifiers must accept 16 signatures, and
 * post-quantum ones approach 5 kB each (6.7 kB in base64): 16 of them fit in 128 KiB. Our own
 * notes are ~250 bytes.
 */
export const noteLengthMax = 128 * 1024;

/** Signature lines per note: the signed-note minimum a verifier must accept. */
export const noteSignaturesMax = 16;

/** Longest key name or checkpoint origin (ours are `bursar/<tenant id>`, under 40 characters). */
export const keyNameLengthMax = 256;

/** Longest Merkle proof accepted: an RFC 9162 proof for a tree below 2^64 leaves has at most 64 hashes. */
export const proofLengthMax = 64;

/**
 * Time a client has to send a whole request (headers and body). Fastify's default is no limit,
 * which lets slow senders hold sockets open forever (slowloris). Responses are not affected.
 */
export const requestReceiveTimeoutMs = 30_000;

/** How long shutdown waits for open connections before cutting them. */
export const shutdownGraceMs = 2000;

/** How long /readyz waits for the store before calling it not ready. */
export const readinessTimeoutMs = 2000;

/** Idempotency records deleted per sweep, so one sweep never holds the writer for long. */
export const idempotencySweepCountMax = 1000;

/** Webhook endpoints per tenant: every journal append reads them, so the list must stay short. */
export const webhookEndpointsPerTenantMax = 20;

/** Event-type filters per endpoint or stream (`payment_intent.*`, `*`, exact types). */
export const eventTypeFiltersMax = 20;

/** Webhook URL length (browsers and proxies commonly cap URLs near 2 KiB). */
export const webhookUrlLengthMax = 2048;

/**
 * Delivery attempts of one event to one endpoint. With the backoff below (base 30 s, doubling,
 * capped at a day, equal jitter) the 14 retries span 1.7 to 3.4 days, 2.6 on average (SPEC:
 * "about three days"; worker.test.ts checks the span).
 */
export const webhookAttemptsMax = 15;

/** First retry delay of a failed delivery; each later one doubles (with jitter). */
export const webhookRetryBaseMs = 30_000;

/** Longest pause between two attempts. */
export const webhookRetryDelayMaxMs = 24 * 60 * 60 * 1000;

/** Time one delivery attempt may take, connect to last byte: a slow receiver must not hold a worker. */
export const webhookAttemptTimeoutMs = 10_000;

/** Bytes of a receiver's response kept with the attempt record; the rest is not even read. */
export const webhookResponseBodyBytesMax = 4096;

/** Attempt records kept per delivery (automatic attempts plus a few manual retries). */
export const webhookAttemptRecordsMax = 50;

/** Deliveries one worker claims per poll; each is leased so no other worker takes it meanwhile. */
export const webhookClaimBatchMax = 50;

/** Deliveries sent at once by one worker process (one per endpoint at a time keeps order). */
export const webhookConcurrentDeliveriesMax = 16;

/** How often the delivery worker looks for due deliveries. */
export const webhookPollIntervalMs = 500;

/** Heartbeat comment interval on event streams: below common proxy idle timeouts (60 s). */
export const eventStreamHeartbeatMs = 15_000;

/** Reconnection delay an event stream asks of its clients (the SSE `retry:` field). */
export const eventStreamRetryMs = 1000;

/** Open event streams per credential, per server process: each costs a socket and a subscriber. */
export const eventStreamsPerCredentialMax = 10;

/**
 * Bytes queued on one stream's socket before the subscriber is dropped as too slow; it resumes
 * with Last-Event-ID, so dropping loses nothing and bounds memory.
 */
export const eventStreamBufferedBytesMax = 1024 * 1024;

/** Events read per store query while a stream replays or catches up. */
export const eventStreamPageMax = 500;

/**
 * How often a server process reads the journal heads of tenants it streams, to see events that
 * other processes wrote (PostgreSQL scale-out). Events of this process arrive at once.
 */
export const eventStreamCatchUpIntervalMs = 1000;

// --- Identity and auth (SPEC 3 "Identity and auth") ---

/** Longest compact JWS accepted (DPoP proofs, client assertions, access tokens): ours are < 1 KiB. */
export const jwsCompactLengthMax = 8 * 1024;

/** Longest `jti` accepted; it becomes a replay-cache key, so it must be bounded. */
export const jtiLengthMax = 256;

/** Registration tickets: default lifetime 15 minutes (SPEC 1), at least 1 minute, at most 7 days. */
export const registrationTicketTtlSecondsDefault = 15 * 60;
export const registrationTicketTtlSecondsMin = 60;
export const registrationTicketTtlSecondsMax = 7 * 24 * 60 * 60;

/** `client_metadata` of a registration, as canonical JSON bytes: descriptive, so small. */
export const clientMetadataBytesMax = 4 * 1024;

/**
 * How far ahead a client assertion's `exp` may be (RFC 7523 §3 lets the server limit it): a short
 * lifetime bounds how long its `jti` must sit in the replay cache.
 */
export const clientAssertionLifetimeSecondsMax = 5 * 60;

/** Clock skew tolerated on `iat`/`nbf` of client assertions. */
export const clockSkewSecondsMax = 60;

/** DPoP proof `iat` window, either side of now (SPEC: ±60 s; RFC 9449 §11.1). */
export const dpopProofAgeSecondsMax = 60;

/** Access-token lifetime: short, because access tokens are not individually revocable. */
export const accessTokenLifetimeSecondsMax = 10 * 60;

/** Refresh-token lifetime (each use rotates it; a family lives while it keeps being used). */
export const refreshTokenLifetimeSecondsMax = 30 * 24 * 60 * 60;

/**
 * Entries of the in-memory replay cache (DPoP proof and client-assertion `jti`s, each kept for
 * its window, ~250 bytes each): 500 000 covers ~4000 proofs/s sustained over a 120 s window in
 * about 125 MB. When full, new proofs are refused (fail closed) rather than old entries evicted:
 * evicting one would make its proof replayable.
 */
export const replayCacheEntriesMax = 500_000;

/** Verified access tokens kept decoded (verify once, then a map lookup until expiry). */
export const accessTokenCacheEntriesMax = 10_000;

/** Imported public keys and parsed proof headers kept, by thumbprint / header segment. */
export const publicKeyCacheEntriesMax = 10_000;

/** Agents whose (immutable) wallet account id is cached for `GET /v1/balance`. */
export const walletCacheEntriesMax = 10_000;

/**
 * Tenants whose enabled webhook endpoints a store process keeps in memory (oldest dropped first).
 * Each entry is at most `webhookEndpointsPerTenantMax` rows, checked against the tenant's config
 * version on every write, so the bound is about memory only.
 */
export const tenantConfigCacheEntriesMax = 10_000;

/**
 * Tenants whose journal right edge a store process keeps in memory (least recently written
 * dropped first; store/journal-edge-cache.ts). An edge is at most 53 hashes of 32 bytes, so the
 * bound is about memory only: a dropped tenant's next write reads its edge once.
 */
export const journalEdgeCacheTenantsMax = 10_000;

/**
 * Committed journal tree nodes (and tree roots, counted apart) a reading process keeps in memory
 * for proofs and checkpoints (journal/node-cache.ts), oldest dropped first: about 150 bytes each,
 * so about 15 MB at the bound. Nodes never change, so the bound is about memory only.
 */
export const journalNodeCacheEntriesMax = 100_000;

/**
 * Credential rows (DPoP bindings, personal access tokens with their member, API keys) a process
 * keeps in memory for authentication, oldest dropped first. Each is checked against its tenant's
 * config version on every request, so the bound is about memory only: a dropped entry costs one
 * read the next time.
 */
export const credentialCacheEntriesMax = 10_000;

/** Credentials tracked by the in-memory rate limiter at once (oldest windows dropped first). */
export const rateLimitCredentialsMax = 100_000;

/**
 * Requests per minute per source address to the unauthenticated write routes (rail callbacks,
 * registrations, /oauth/token, /oauth/revoke): no credential to count against, and each request
 * costs a signature check or a store write, so a flood from one address must stop early. IPv6
 * addresses count per /64 (one host usually owns a whole /64). Server config may change it
 * (`BURSAR_SOURCE_RATE_LIMIT_PER_MINUTE`); behind a proxy every client shares its address.
 */
export const sourceRateLimitPerMinuteDefault = 600;

/** API-key rate limits: default and ceiling, requests per minute. */
export const apiKeyRateLimitPerMinuteDefault = 600;
export const apiKeyRateLimitPerMinuteMax = 100_000;

/**
 * Per-credential limit for personal access tokens and agent access tokens (requests per minute),
 * unless the server is configured otherwise (`BURSAR_RATE_LIMIT_PER_MINUTE`).
 */
export const credentialRateLimitPerMinuteDefault = 6000;

/** Longest grace period of an API-key rotation (the old key keeps working this long at most). */
export const apiKeyRotationGraceSecondsMax = 7 * 24 * 60 * 60;

/** API-key usage counters are flushed to the store this often (and before usage is read). */
export const apiKeyUsageFlushIntervalMs = 5000;

/** Distinct keys with unflushed usage before a flush is forced. */
export const apiKeyUsagePendingKeysMax = 10_000;

/** `application/x-www-form-urlencoded` bodies of /oauth/*: a few short parameters. */
export const oauthFormBytesMax = 16 * 1024;
export const oauthFormParametersMax = 16;

/** DPoP-Nonce (RFC 9449 §8) lifetime when nonces are required. */
export const dpopNonceLifetimeSecondsMax = 5 * 60;
/** SQLite reader: bytes of the database file mapped into memory (address space, not RAM). */
export const sqliteMmapBytesMax = 1024 * 1024 * 1024;

/** SQLite reader: page cache, in KiB. Holds the upper levels of every tenant's Merkle tree. */
export const sqliteCacheKibibytesMax = 64 * 1024;

// --- The payment agent (SPEC 3 "The payment agent (chat)") ---

/** Characters of one chat message: a request to an assistant, not a document to process. */
export const chatMessageLengthMax = 4000;

/**
 * Messages of a conversation a planner sees (user, assistant and tool messages). Older ones are
 * dropped, whole turns at a time, so an LLM prompt stays bounded however long a chat runs.
 */
export const chatHistoryMessagesMax = 100;

/**
 * Tool calls in one turn. The deterministic planner needs at most 3; the limit stops a model
 * that loops (calling tools forever costs money and, for payments, could repeat an action).
 */
export const chatToolCallsPerTurnMax = 8;

/** Bytes of one tool call's arguments as JSON: the largest is a service request's payload. */
export const chatToolArgumentsBytesMax = 16 * 1024;

/** Bytes of one tool result passed back to a planner (a page of 100 list items fits). */
export const chatToolResultBytesMax = 256 * 1024;

/** Time one LLM completion may take, request to last streamed byte. */
export const llmCompletionTimeoutMs = 60_000;

/** Bytes of one streamed LLM completion read before it is abandoned as runaway. */
export const llmResponseBytesMax = 1024 * 1024;

/**
 * Bytes of one stored conversation's messages (as JSON). Each message is bounded on its own, but
 * a hundred tool results of up to `chatToolResultBytesMax` would make a 25 MiB row read and
 * rewritten on every turn; older whole turns are dropped past this (the newest turn is kept).
 */
export const conversationStoredBytesMax = 1024 * 1024;

/**
 * Active conversations one agent may keep. Each holds up to `conversationStoredBytesMax`, so an
 * agent that starts a conversation per message (or a loop that does) would otherwise grow the
 * store without bound; deleting conversations frees room.
 */
export const conversationsPerAgentMax = 1000;

/**
 * Payment intents the agent's `list_payment_intents` tool scans to filter by an approval status
 * (only the execution status is indexed). Older ones are still listed by the API.
 */
export const chatIntentStatusScanMax = 500;

/**
 * Body of one trigger fire (issue 15, triggers): an external event that fills a payload template.
 * Events of monitoring and commerce systems are a few KiB; anything larger is refused (413)
 * before it is parsed or its signature computed.
 */
export const triggerFireBodyBytesMax = 64 * 1024;

/**
 * Age (either way) of a fire's `webhook-timestamp`: the Standard Webhooks reference tolerance,
 * as for rail callbacks. A captured fire cannot be replayed later than this; inside it, the
 * `webhook-id` makes a repeat answer the first outcome instead of acting again.
 */
export const triggerFireAgeSecondsMax = 5 * 60;

/**
 * Fires one trigger may make per minute once its signature verifies: a leaked secret, or a
 * sender stuck in a loop, moves at most this many governed actions a minute (each still under
 * the agent's policy and budgets).
 */
export const triggerFiresPerMinuteMax = 60;

/** A payload template's JSON size: a payment or service request body with room for text. */
export const triggerTemplateBytesMax = 8 * 1024;

/** Placeholders in one template. */
export const triggerPlaceholdersMax = 32;

/** Parts of one placeholder's dotted path (`{{order.lines.0.sku}}` has 4). */
export const triggerPlaceholderPathSegmentsMax = 8;

/** A rendered payload's JSON size: what the governed operation's own body limit allows. */
export const triggerRenderedBytesMax = 64 * 1024;

/** Triggers one agent may have: each is a standing way into its money. */
export const triggersPerAgentMax = 100;

/**
 * Days one usage query may span (issue 15, usage): a year of daily buckets and a day of slack.
 * Longer spans are asked in parts.
 */
export const usageRangeDaysMax = 367;

/** Buckets one usage answer holds (a bucket per key and currency): enough for a year by day, or the tenant's agents. */
export const usageBucketsMax = 1000;

/** Events one agent activity page holds. */
export const agentActivityPageMax = 100;

/** A limit is "near exhaustion" in an agent's health when at most this fraction of it is left. */
export const agentHealthLimitFractionNear = 0.1;

/** Credential bindings, API keys and pending approvals one health check reads (it reports "at least" past this). */
export const agentHealthScanMax = 100;

/** Fails fast when bounds contradict each other. Called once at start-up. */
export function checkLimits(): void {
  const assert = (condition: boolean, message: string) => {
    if (!condition) throw new Error(`limits.ts is inconsistent: ${message}`);
  };
  assert(amountMinorMax <= balanceMinorMax, "amountMinorMax must fit in a balance");
  assert(Number.isSafeInteger(amountMinorMax * 2), "two amounts must add exactly");
  assert(pageLimitDefault <= pageLimitMax, "default page size above the maximum");
  assert(holdTimeoutSecondsMin <= holdTimeoutSecondsMax, "hold timeout bounds inverted");
  assert(approvalExpirySecondsMax + railTimeoutSecondsDefault + holdGraceSeconds <= holdTimeoutSecondsMax, "a payment hold must outlive its approval and rail deadlines");
  assert(idempotencyClaimTimeoutMs < idempotencyRetentionMs, "claim timeout above retention");
  assert(transferBatchCountMax <= commitBatchOperationsMax, "a batch must fit one commit");
  assert(jsonDepthMax >= 4, "schemas nest 4 levels");
  assert(predicateBodyJsonDepthMax >= jsonDepthMax, "a predicate route accepts what any route does");
  assert(predicateBodyJsonDepthMax >= escrowEvidenceSchemaDepthMax + 2, "an evidence schema at its depth bound fits the create body");
  assert(predicateConstantDepthMax <= predicateValueDepthMax, "constants compare within the equality depth");
  assert(Number.isSafeInteger(journalSizeMax * 2), "tree indexes must stay exact");
  assert(2 ** proofLengthMax >= journalSizeMax, "a proof of the largest journal must be accepted");
  assert(webhookAttemptsMax <= webhookAttemptRecordsMax, "every automatic attempt must be recorded");
  assert(webhookRetryBaseMs <= webhookRetryDelayMaxMs, "retry base above the longest pause");
  assert(eventStreamPageMax <= 10_000, "a stream page must fit one store query");
  assert(registrationTicketTtlSecondsMin <= registrationTicketTtlSecondsDefault && registrationTicketTtlSecondsDefault <= registrationTicketTtlSecondsMax, "ticket lifetime bounds");
  assert(jtiLengthMax < jwsCompactLengthMax, "a jti fits in a JWS");
  assert(escrowDeadlineSecondsMax <= capabilityLifetimeSecondsMax, "an escrow's capability lives until its deadline");
  assert(approvalExpirySecondsMax + holdGraceSeconds <= holdTimeoutSecondsMax, "an escrow funding hold must outlive its approval");
  assert(escrowEvidenceAttemptsMax >= 1, "a payee may submit evidence at least once");
  assert(predicateNodesMax <= predicateStepsMax, "every node of a predicate can be visited");
  assert(escrowAllowedOperationsMax <= policyListEntriesMax, "an escrow's operations fit a capability");
  assert(apiKeyRateLimitPerMinuteDefault <= apiKeyRateLimitPerMinuteMax, "API-key rate limit default above its ceiling");
  assert(accessTokenLifetimeSecondsMax < refreshTokenLifetimeSecondsMax, "access tokens outlive refresh tokens");
  assert(oauthFormBytesMax <= requestBodyBytesMax, "form bodies within the body limit");
  assert(chatToolArgumentsBytesMax <= requestBodyBytesMax, "tool arguments must fit a request the tool makes");
  assert(chatToolCallsPerTurnMax >= 3, "a payment needs up to 3 tool calls (find payee, balance, create)");
  assert(chatHistoryMessagesMax >= 2 * chatToolCallsPerTurnMax + 2, "the history must hold at least one whole turn");
  assert(railCallbackBodyBytesMax <= requestBodyBytesMax, "rail callbacks within the body limit");
  assert(triggerFireBodyBytesMax <= requestBodyBytesMax && triggerRenderedBytesMax <= requestBodyBytesMax, "trigger fires and their payloads within the body limit");
  assert(triggerTemplateBytesMax <= triggerRenderedBytesMax, "a template without placeholders renders within the bound");
  assert(usageBucketsMax >= usageRangeDaysMax, "a year by day fits one usage answer");
  assert(agentHealthScanMax <= pageLimitMax && agentActivityPageMax <= pageLimitMax, "health and activity reads are store pages");
  assert(conversationStoredBytesMax >= chatToolResultBytesMax + 4 * chatMessageLengthMax, "a stored conversation must hold a turn with a large tool result");
  assert(chatIntentStatusScanMax >= pageLimitMax, "the status scan must fill a page");
  assert(serviceCallTimeoutMsDefault <= serviceCallTimeoutMsMax && serviceCallTimeoutMsMax < serviceRequestDeadlineSeconds * 1000, "a service call must end before its request's deadline");
  assert(sandboxSlowDelayMsDefault < serviceRequestDeadlineSeconds * 1000, "sandbox.slow must finish before its deadline");
  assert(approvalExpirySecondsMax + serviceRequestDeadlineSeconds + holdGraceSeconds <= holdTimeoutSecondsMax, "a service hold must outlive its approval and deadline");
  assert(servicePayloadBytesMax + serviceResultBytesMax <= requestBodyBytesMax, "a service request fits a request body");
  assert(delegationLifetimeMsMax > serviceCallTimeoutMsMax, "a lent principal must outlive the longest tool call");
  assert(teamAllocationsMax >= teamMembersMax, "every member of a full team can hold an allocation");
  assert(agentDescendantsMax <= pageLimitMax, "one page lists every child of an agent");
}
