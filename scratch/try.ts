import { runTurn, deterministicPlanner } from "../packages/core/src/index.ts";
import { fakeTools } from "../packages/core/src/chat/test-support.ts";
const tools = fakeTools();
for (const message of process.argv.slice(2)) {
  const r = await runTurn({ planner: deterministicPlanner, tools, history: [], message, emit: (e) => { if (e.type !== "text_delta" && e.type !== "reply") console.log("  ", JSON.stringify(e)); } });
  console.log(">", message, "\n", r.reply, "\n");
}
