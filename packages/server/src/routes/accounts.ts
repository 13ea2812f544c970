/** `/v1/accounts`: ledger accounts and deposits (owner-level). */
import { accountView, createAccount, deposit, transferView, wire } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

export const accountRoutes: RouteModule = (app, { mutate, store }) => {
  app.get(
    "/v1/accounts",
    { schema: { tags: ["ledger"], summary: "List accounts", description: "The tenant's ledger accounts (agent wallets, payees, funding, escrow, fees), newest first, each with its posted and pending debits and credits.", querystring: wire.pageQuery, response: { 200: wire.page(wire.account) } }, config: { scopes: ["tenant:admin"] } },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await store.read.listAccounts(request.principal.tenantId, { limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, accountView);
    },
  );

  app.post(
    "/v1/accounts",
    { schema: { tags: ["ledger"], summary: "Create an account", description: "Creates a ledger account in one currency. `debits_must_not_exceed_credits` gives it a floor of zero: no transfer may take it below.", body: wire.createAccountBody, response: { 201: wire.account } }, config: { errors: ["unknown_currency"], example: {"body": {"currency": "GBP", "kind": "general", "name": "Marketing float", "debits_must_not_exceed_credits": true}}, scopes: ["tenant:admin"] } },
    async (request, reply) => {
      const body = request.body;
      return mutate(
        request,
        reply,
        (context) =>
          createAccount(context, {
            currency: body.currency,
            kind: body.kind,
            name: body.name,
            debitsMustNotExceedCredits: body.debits_must_not_exceed_credits,
            metadata: body.metadata,
          }),
        (account) => ({ status: 201, body: accountView(account) }),
      );
    },
  );

  app.get(
    "/v1/accounts/:id",
    { schema: { tags: ["ledger"], summary: "Get an account with its balances", description: "One account with its posted and pending debits and credits and its balance.", params: wire.idParam, response: { 200: wire.account } }, config: { scopes: ["tenant:admin"] } },
    async (request) => {
      const account = await store.read.getAccount(request.principal.tenantId, request.params.id);
      if (!account) throw notFound("account", request.params.id);
      return accountView(account);
    },
  );

  app.post(
    "/v1/accounts/:id/deposits",
    {
      schema: {
        tags: ["ledger"],
        summary: "Fund an account from the tenant's funding account (sandbox rail)", description: "Moves money from the tenant's funding account into this account (sandbox rail), e.g. to fund an agent's wallet. Give `id` to make the deposit idempotent by your own id.",
        params: wire.idParam,
        body: wire.depositBody,
        response: { 200: wire.transfer, 201: wire.transfer },
      },
      config: { errors: ["currency_mismatch", "overflows_balance"], example: {"body": {"amount": 100000, "reference": "Top-up"}}, scopes: ["tenant:admin"] },
    },
    async (request, reply) => {
      const { amount, id, reference } = request.body;
      return mutate(
        request,
        reply,
        (context) => deposit(context, { accountId: request.params.id, amountMinor: amount, id, reference }),
        (result) => ({ status: result.created[0] ? 201 : 200, body: transferView(result.transfers[0]!) }),
      );
    },
  );
};

