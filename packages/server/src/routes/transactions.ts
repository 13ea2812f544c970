/** `/v1/transactions`: executed payment legs as the rail reported them. */
import { transactionView, wire, type TransactionBody } from "@bursar/core";
import { recordReadRoutes } from "./records.js";

export const transactionRoutes = recordReadRoutes<TransactionBody>({
  path: "/v1/transactions",
  kind: "transaction",
  noun: "transaction",
  tag: "payments",
  scope: "transactions:read",
  view: transactionView,
  schema: wire.transaction,
  listDescription: "Executed payment legs as the rail reports them, newest first: amount, creditor, debtor, reference, status, payment intent.",
  getDescription: "One executed payment leg: amount, creditor, debtor, reference, status and its payment intent.",
  listExample: "limit=10",
});
