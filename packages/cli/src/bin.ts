/** The `bursar` command. */
import { program } from "./program.js";

await program.parseAsync(process.argv);
