// `npm start`: exactly `discovery serve`, configured from the environment.
import { createProgram } from "./program";

void createProgram().parseAsync([process.argv[0]!, process.argv[1]!, "serve", ...process.argv.slice(2)]);
