/** `/v1/transfers`: owner-level double-entry transfers, holds, batches. */
import { createTransfers, postTransfer, transferView, voidTransfer, wire, type TransferInput } from "@bursar/core";
import type { z } from "zod";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

function toInput(body: z.infer<typeof wire.transferBody>): TransferInput {
  return {
    id: body.id,
    debitAccountId: body.debit_account_id,
    creditAccountId: body.credit_account_id,
    amountMinor: body.amount,
    currency: body.currency,
    pending: body.pending,
    timeoutSeconds: body.timeout_seconds,
    reference: body.reference,
    metadata: body.metadata,
  };
}

export const transferRoutes: RouteModule = (app, { mutate, store }) => {
  app.get(
    "/v1/transfers",
    {
      schema: {
        tags: ["ledger"],
        summary: "List transfers, newest first", description: "Ledger transfers, newest first: posted movements and holds (pending transfers) with their status.",
        querystring: wire.pageQuery.extend({ account_id: wire.idParam.shape.id.optional() }),
        response: { 200: wire.page(wire.transfer) },
      },
      config: { scopes: ["tenant:admin"] },
    },
    async (request) => {
      const { limit, cursor, account_id } = request.query;
      const rows = await store.read.listTransfers(request.principal.tenantId, { limit: limit + 1, beforeId: cursor, accountId: account_id });
      return pageOf(rows, limit, transferView);
    },
  );

  app.post(
    "/v1/transfers",
    {
      schema: {
        tags: ["ledger"],
        summary: "Create a transfer, a hold (pending: true), or an atomic batch ({transfers: [...]})",
        description:
          "A transfer whose id already exists with the same fields returns the first result (200); with different fields, 409 transfer_exists_with_different_fields. A batch succeeds or fails as one.",
        body: wire.createTransfersBody,
        response: { 200: wire.transfer.or(wire.transferBatch), 201: wire.transfer.or(wire.transferBatch) },
      },
      config: { errors: ["accounts_must_be_different", "currency_mismatch", "insufficient_funds", "linked_transfer_failed", "not_found", "overflows_balance", "transfer_exists_with_different_fields", "unknown_currency"], example: {"body": {"debit_account_id": "acc_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "credit_account_id": "acc_01JD5Y4Q7X8ZK3M2N1P0R9S8T8", "amount": 2500, "currency": "GBP", "reference": "Move to float"}}, scopes: ["tenant:admin"] },
    },
    async (request, reply) => {
      const body = request.body;
      const batch = "transfers" in body;
      const inputs = batch ? body.transfers.map(toInput) : [toInput(body)];
      return mutate(
        request,
        reply,
        (context) => createTransfers(context, inputs),
        (result) => ({
          status: result.created.some(Boolean) ? 201 : 200,
          body: batch ? { object: "list" as const, data: result.transfers.map(transferView) } : transferView(result.transfers[0]!),
        }),
      );
    },
  );

  app.get(
    "/v1/transfers/:id",
    { schema: { tags: ["ledger"], summary: "Get a transfer", description: "One transfer, with its status (`posted`, `pending`, `voided`, `expired`).", params: wire.idParam, response: { 200: wire.transfer } }, config: { scopes: ["tenant:admin"] } },
    async (request) => {
      const transfer = await store.read.getTransfer(request.principal.tenantId, request.params.id);
      if (!transfer) throw notFound("transfer", request.params.id);
      return transferView(transfer);
    },
  );

  app.post(
    "/v1/transfers/:id/post",
    {
      schema: { tags: ["ledger"], summary: "Post a hold, fully or partly", description: "Posts a pending transfer (a hold): all of it, or `amount` of it; the rest is released.", params: wire.idParam, body: wire.postTransferBody, response: { 200: wire.transfer } },
      config: { errors: ["pending_transfer_expired", "post_amount_exceeds_pending_amount", "transfer_not_pending"], example: {"body": {"amount": 1500}}, scopes: ["tenant:admin"] },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => postTransfer(context, request.params.id, request.body?.amount), (transfer) => ({ status: 200, body: transferView(transfer) })),
  );

  app.post(
    "/v1/transfers/:id/void",
    { schema: { tags: ["ledger"], summary: "Void a hold", description: "Voids a pending transfer: the held money is released to the debit account.", params: wire.idParam, response: { 200: wire.transfer } }, config: { errors: ["pending_transfer_expired", "transfer_not_pending"], scopes: ["tenant:admin"] } },
    async (request, reply) =>
      mutate(request, reply, (context) => voidTransfer(context, request.params.id), (transfer) => ({ status: 200, body: transferView(transfer) })),
  );
};
