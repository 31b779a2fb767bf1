// A reader that goes away (`discovery watch | head -1`) closes our stdout. Unix
// tools end quietly then; without this, the next write's EPIPE is an uncaught
// 'error' event and Node prints a stack trace.

export function endQuietlyWhenReaderLeaves(stdout: NodeJS.WriteStream, exit: (code: number) => void = process.exit): void {
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") exit(0);
    else throw error;
  });
}
