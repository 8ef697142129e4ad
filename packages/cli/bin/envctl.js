#!/usr/bin/env node
// The envctl command (built from src/ into dist/ by `npm run build -w @platform/cli`).
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv);
