/**
 * `bursar journal verify`: checks the tenant's journal without trusting the server. The latest
 * checkpoint must be signed by the journal key (pinned in the credential store on first use) and
 * extend the checkpoint verified on the previous run (RFC 9162 consistency proof); then the
 * inclusion of one entry (the newest, or `--seq`) is proven, or with `--all` every entry is
 * re-hashed into the signed root.
 */
import { JournalVerificationError } from "@bursar/sdk";
import type { Command } from "commander";
import { fields, print } from "../output.js";
import { action, anyClient, apiCommand, credentialStore, type CommonOptions } from "./context.js";

export function journalCommands(program: Command): void {
  const journal = program.command("journal").description("The tamper-evident journal");
  apiCommand(journal, "verify", "Verify the latest checkpoint, its consistency with the last one verified, and an entry's inclusion")
    .option("--seq <seq>", "the entry to prove (default: the newest)", Number)
    .option("--all", "re-hash every entry into the signed root (reads the whole journal)")
    .action(
      action(async (options: CommonOptions & { seq?: number; all?: boolean }) => {
        const bursar = anyClient(options);
        const principal = await bursar.principal.get();
        const origin = `bursar/${principal.tenant_id}`;
        const previous = (await credentialStore(options).loadJournalTrust(origin))?.checkpoint ?? null;
        try {
          const checkpoint = options.all ? await bursar.journal.verifyEntries() : await bursar.journal.checkpoint();
          const seq = options.seq ?? checkpoint.treeSize;
          const included = seq > 0 ? await bursar.journal.verifyInclusion({ seq }) : null;
          const result = {
            verified: true,
            origin: checkpoint.origin,
            tree_size: checkpoint.treeSize,
            root_hash: checkpoint.rootHash,
            time: checkpoint.time,
            extends_previous: previous ? { tree_size: previous.tree_size, root_hash: previous.root_hash } : null,
            inclusion: included ? { seq: included.seq, event_id: included.event.id, type: included.event.type } : null,
            all_entries: Boolean(options.all),
          };
          print(options.json, result, () =>
            fields({
              journal: result.origin,
              checkpoint: `${result.tree_size} entries, root ${result.root_hash} (${result.time}): signature ok`,
              consistency: previous ? `extends the checkpoint verified before (${previous.tree_size} entries)` : "first verification: checkpoint pinned for next time",
              inclusion: included ? `entry ${included.seq} (${included.event.type}, ${included.event.id}) is in the journal` : "-",
              entries: options.all ? `all ${result.tree_size} re-hashed to the signed root` : "not re-hashed (use --all)",
            }),
          );
        } catch (error) {
          if (error instanceof JournalVerificationError) {
            print(options.json, { verified: false, reason: error.reason, message: error.message }, () => `JOURNAL VERIFICATION FAILED (${error.reason}): ${error.message}\n`);
            process.exitCode = 3;
            return;
          }
          throw error;
        } finally {
          await bursar.close();
        }
      }),
    );
}
