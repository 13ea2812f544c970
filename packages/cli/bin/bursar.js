#!/usr/bin/env node
// Runs the TypeScript sources through tsx until the packages ship a compiled build.
import { register } from "tsx/esm/api";
register();
await import("../src/bin.ts");
