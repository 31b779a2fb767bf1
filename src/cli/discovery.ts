#!/usr/bin/env node
// The `discovery` executable (package.json "bin").
import { endQuietlyWhenReaderLeaves } from "./closed-pipe";
import { createProgram } from "./program";

endQuietlyWhenReaderLeaves(process.stdout);
void createProgram().parseAsync(process.argv);
