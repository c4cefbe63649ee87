"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.buildServerLaunch = buildServerLaunch;
exports.initializationOptions = initializationOptions;
exports.describeLaunch = describeLaunch;
/** Build the launch for `settings` in `workspaceFolder` (undefined with no folder open: the
 * server then defaults to its own working directory). `baseEnv` is the editor's environment. */
function buildServerLaunch(settings, workspaceFolder, baseEnv = process.env) {
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
function initializationOptions(settings) {
    return settings.server.authToken ? { authToken: settings.server.authToken } : {};
}
/** A one-line description for the output channel and error messages. */
function describeLaunch(launch) {
    const quote = (s) => (/[\s"']/.test(s) ? JSON.stringify(s) : s);
    return [launch.command, ...launch.args].map(quote).join(" ");
}
//# sourceMappingURL=serverCommand.js.map