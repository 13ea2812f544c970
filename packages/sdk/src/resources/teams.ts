/**
 * `/v1/teams` and `/v1/budget-requests` (docs/teams.md): teams of agents with budget pools that
 * managers carve into allocations, and an agent's requests for more budget, decided by a manager
 * of its team or an owner.
 */
import { APIError } from "../errors.ts";
import type { Page } from "../pagination.ts";
import type {
  Agent,
  BudgetRequest,
  BudgetRequestAction,
  BudgetRequestApproveParams,
  BudgetRequestCreateParams,
  BudgetRequestListParams,
  BudgetRequestRejectParams,
  PageParams,
  PaymentIntent,
  Period,
  Team,
  TeamAllocation,
  TeamAllocationParams,
  TeamCreateParams,
  TeamMembers as TeamMemberList,
  TeamUpdateParams,
} from "../types.ts";
import { Resource, segment, type CallOptions, type Requester } from "./resource.ts";

/** `teams.members`: the agents of a team; an agent belongs to one team at most. */
export class TeamMembers extends Resource {
  list(teamId: string, options?: CallOptions): Promise<TeamMemberList> {
    return this.getJson(`/v1/teams/${segment(teamId)}/members`, undefined, options);
  }
  /** Its spending counts against the team's pools from its next decision. */
  add(teamId: string, agentId: string, options?: CallOptions): Promise<Agent> {
    return this.postJson(`/v1/teams/${segment(teamId)}/members`, { agent_id: agentId }, options);
  }
  /** The agent leaves the team with its allocations. */
  delete(teamId: string, agentId: string, options?: CallOptions): Promise<Agent> {
    return this.deleteJson(`/v1/teams/${segment(teamId)}/members/${segment(agentId)}`, options);
  }
}

/** `teams.allocations`: members' budgets carved out of a pool; they never sum past it. */
export class TeamAllocations extends Resource {
  /**
   * Sets the member's allocation of the pool of `period` to `amount` (0 removes it); answers the team.
   * @example await owner.teams.allocations.create(team.id, { agent_id, period: "monthly", amount: 100000 });
   */
  create(teamId: string, params: TeamAllocationParams, options?: CallOptions): Promise<Team> {
    return this.postJson(`/v1/teams/${segment(teamId)}/allocations`, params, options);
  }
  /** The team's allocations (from the team view). */
  async list(teamId: string, options?: CallOptions): Promise<TeamAllocation[]> {
    const team = await this.getJson<Team>(`/v1/teams/${segment(teamId)}`, undefined, options);
    return team.allocations;
  }
}

export class Teams extends Resource {
  readonly members: TeamMembers;
  readonly allocations: TeamAllocations;

  constructor(client: Requester) {
    super(client);
    this.members = new TeamMembers(client);
    this.allocations = new TeamAllocations(client);
  }

  /** @example const team = await owner.teams.create({ name: "Research", pools: [{ period: "monthly", currency: "GBP", amount: 500000 }] }); */
  create(params: TeamCreateParams, options?: CallOptions): Promise<Team> {
    return this.postJson("/v1/teams", params, options);
  }
  /** An agent credential sees only its own team. */
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<Team>> {
    return this.paginate("/v1/teams", { ...params }, options);
  }
  /** The team view: each pool's amount, allocated, spent, held and remaining. */
  get(id: string, options?: CallOptions): Promise<Team> {
    return this.getJson(`/v1/teams/${segment(id)}`, undefined, options);
  }
  /** Name, description, managers or pools (a list given replaces the old one). */
  update(id: string, params: TeamUpdateParams, options?: CallOptions): Promise<Team> {
    return this.patchJson(`/v1/teams/${segment(id)}`, params, options);
  }
}

/** What `budgetRequests.createFromDenial` asks for besides what the denial says. */
export interface BudgetRequestFromDenialParams {
  amount: number;
  period: Period;
  reason: string;
  /** Owners: the agent the denial was for. */
  agent_id?: string;
  /** The denied action, to retry once the budget is raised (derived from a denied payment intent otherwise). */
  action?: BudgetRequestAction;
}

/** Anything that answers with `available_actions`: a denied payment intent, a policy decision, an API error. */
export type Denial = APIError | { object?: string; available_actions: readonly string[] };

function actionOf(denial: Denial): BudgetRequestAction | undefined {
  if (denial instanceof APIError) return undefined;
  const intent = denial as Partial<PaymentIntent>;
  if (intent.object !== "payment_intent" || !intent.legs || intent.legs.length !== 1) return undefined;
  const leg = intent.legs[0]!;
  return { kind: "payment", amount: leg.amount, currency: leg.currency, payee: leg.payee_id };
}

export class BudgetRequests extends Resource {
  /**
   * An agent asks for `amount` more per `period` (owners may ask for an agent with `agent_id`).
   * @example await bursar.budgetRequests.create({ amount: 5000, period: "daily", reason: "The April invoice is larger" });
   */
  create(params: BudgetRequestCreateParams, options?: CallOptions): Promise<BudgetRequest> {
    return this.postJson("/v1/budget-requests", params, options);
  }
  /**
   * The `request_budget` action of a denial: asks for more budget, naming the denied action (a
   * denied one-leg payment intent names itself). Refuses an answer that does not offer `request_budget`.
   * @example
   * const intent = await bursar.paymentIntents.create({ payee: "Bob", amount: 50000, currency: "GBP" });
   * if (intent.available_actions.includes("request_budget"))
   *   await bursar.budgetRequests.createFromDenial(intent, { amount: 5000, period: "daily", reason: "The April invoice" });
   */
  async createFromDenial(denial: Denial, params: BudgetRequestFromDenialParams, options?: CallOptions): Promise<BudgetRequest> {
    const offered = denial instanceof APIError ? denial.availableActions : denial.available_actions;
    if (!offered.includes("request_budget")) {
      if (denial instanceof APIError) throw denial;
      throw new TypeError(`this answer does not offer request_budget (it offers: ${offered.join(", ") || "nothing"})`);
    }
    let action = params.action ?? actionOf(denial);
    if (action && denial instanceof APIError && denial.requestId && action.request_id === undefined) action = { ...action, request_id: denial.requestId };
    return this.create({ ...params, action }, options);
  }
  /** Newest first; `status: "pending"` lists what waits on a decision. An agent sees only its own. */
  list(params: BudgetRequestListParams = {}, options?: CallOptions): Promise<Page<BudgetRequest>> {
    return this.paginate("/v1/budget-requests", { ...params }, options);
  }
  get(id: string, options?: CallOptions): Promise<BudgetRequest> {
    return this.getJson(`/v1/budget-requests/${segment(id)}`, undefined, options);
  }
  /** Managers and owners: raises the agent's allocation (within the pool) or budget, by all or `amount`. */
  approve(id: string, params: BudgetRequestApproveParams = {}, options?: CallOptions): Promise<BudgetRequest> {
    return this.postJson(`/v1/budget-requests/${segment(id)}/approve`, params, options);
  }
  reject(id: string, params: BudgetRequestRejectParams = {}, options?: CallOptions): Promise<BudgetRequest> {
    return this.postJson(`/v1/budget-requests/${segment(id)}/reject`, params, options);
  }
}
