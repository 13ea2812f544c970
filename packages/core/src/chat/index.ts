/**
 * The payment agent: tools, the turn runner and the deterministic planner (docs/chat.md).
 * Exported by name, not `export *`, so helpers here (statuses, byte counts) never collide with
 * the domain's own names in `@bursar/core`.
 */
export {
  chatToolArguments,
  chatToolDefinitions,
  chatToolNames,
  ChatToolError,
  isChatToolName,
  validateToolCall,
  type ChatToolArguments,
  type ChatToolDefinition,
  type ChatToolFailure,
  type ChatToolName,
  type ChatTools,
  type ValidatedToolCall,
} from "./tools.js";
export {
  defaultChatLimits,
  keepRecent,
  runTurn,
  type ChatEvent,
  type ChatLimits,
  type ChatMessage,
  type ChatToolCall,
  type PlannedToolCall,
  type Planner,
  type PlannerContext,
  type PlannerOutcome,
  type PlannerStep,
  type ToolOutcome,
  type TurnContinuation,
  type TurnInput,
  type TurnResult,
} from "./conversation.js";
export { understand, type ChatRequest } from "./understand.js";
export { deterministicPlanner } from "./planner.js";
export {
  appendToConversation,
  boundMessages,
  conversationSummaryView,
  conversationView,
  deleteConversation,
  type ConversationBody,
  type ConversationRecord,
} from "./conversations.js";
