// Runs the gateway: REGISTRY_URL (default http://127.0.0.1:3004), SERVICE
// (default "users"), HOST and PORT (default 127.0.0.1:8000). Stops on SIGTERM.
import { startGateway } from "./gateway";

async function main(): Promise<void> {
  const gateway = await startGateway({
    registryUrl: process.env.REGISTRY_URL ?? "http://127.0.0.1:3004",
    service: process.env.SERVICE ?? "users",
    host: process.env.HOST ?? "127.0.0.1",
    port: Number(process.env.PORT ?? 8000),
  });
  console.log(`gateway listening ${gateway.port}`);
  const stop = () => void gateway.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  console.error("gateway failed:", error);
  process.exit(1);
});
