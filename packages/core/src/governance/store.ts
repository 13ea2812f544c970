/**
 * Typed access to governance records: each kind has one body type, and these helpers are the
 * only place that casts a stored JSON body to it.
 */
import type { StoreReader, StoreTx } from "../ports.js";
import type { RecordKind, RecordQuery, StoredRecord } from "./records.js";

export async function loadRecord<Body>(reader: StoreReader, tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord<Body> | null> {
  return (await reader.getRecord(tenantId, kind, id)) as StoredRecord<Body> | null;
}

export async function listRecordsOf<Body>(reader: StoreReader, tenantId: string, query: RecordQuery): Promise<Array<StoredRecord<Body>>> {
  return (await reader.listRecords(tenantId, query)) as Array<StoredRecord<Body>>;
}

export async function saveRecord<Body>(tx: StoreTx, record: StoredRecord<Body>, isNew: boolean): Promise<void> {
  const row = record as unknown as StoredRecord;
  if (isNew) await tx.insertRecord(row);
  else await tx.updateRecord(row);
}

/** A record's id and timestamps as the API shows them. */
export function recordStamp(record: StoredRecord<unknown>, toRfc3339: (ms: number) => string) {
  return { id: record.id, created_at: toRfc3339(record.createdAtMs), updated_at: toRfc3339(record.updatedAtMs) };
}
