/**
 * How the server process is launched: command, arguments, working directory and environment.
 *
 * Kept apart from the VS Code API (as in the python-tools extension template's `server.ts`) so
 * the node tests launch the real server exactly the way the extension does.
 */
import { PERMISSION_CAPABILITY } from "./permissions";
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

/** `initializationOptions` for the LSP `initialize` request: the auth token when set, and the
 * flag saying this client presents `victor/requestPermission` (approvals). */
export function initializationOptions(settings: VictorSettings): Record<string, unknown> {
  const options: Record<string, unknown> = { [PERMISSION_CAPABILITY]: true };
  if (settings.server.authToken) {
    options.authToken = settings.server.authToken;
  }
  return options;
}

/** A one-line description for the output channel and error messages. */
export function describeLaunch(launch: ServerLaunch): string {
  const quote = (s: string): string => (/[\s"']/.test(s) ? JSON.stringify(s) : s);
  return [launch.command, ...launch.args].map(quote).join(" ");
}
