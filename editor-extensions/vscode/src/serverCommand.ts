/**
 * How the server process is launched: command, arguments, working directory and environment.
 *
 * Kept apart from the VS Code API (as in the python-tools extension template's `server.ts`) so
 * the node tests launch the real server exactly the way the extension does.
 */
import type { VictorSettings } from "./settings";

export interface ServerLaunch {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string | undefined>;
}

/** Build the launch for `settings` in `workspaceFolder` (undefined with no folder open: the
 * server then defaults to its own working directory). `baseEnv` is the editor's environment. */
export function buildServerLaunch(
  settings: VictorSettings,
  workspaceFolder: string | undefined,
  baseEnv: Record<string, string | undefined> = process.env,
): ServerLaunch {
  const args = [...settings.server.args];
  if (workspaceFolder !== undefined && !args.includes("--workspace")) {
    args.push("--workspace", workspaceFolder);
  }
  return {
    command: settings.server.command,
    args,
    cwd: workspaceFolder,
    env: { ...baseEnv, ...settings.server.env },
  };
}

/** `initializationOptions` for the LSP `initialize` request (SPEC section 7: auth token). */
export function initializationOptions(settings: VictorSettings): Record<string, unknown> {
  return settings.server.authToken ? { authToken: settings.server.authToken } : {};
}

/** A one-line description for the output channel and error messages. */
export function describeLaunch(launch: ServerLaunch): string {
  const quote = (s: string): string => (/[\s"']/.test(s) ? JSON.stringify(s) : s);
  return [launch.command, ...launch.args].map(quote).join(" ");
}
