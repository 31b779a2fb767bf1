#!/usr/bin/env node
// The `discovery` executable (package.json "bin").
import { createProgram } from "./program";

void createProgram().parseAsync(process.argv);
