/**
 * Text the extension shows for results that are not chat: tool selection, compaction,
 * analytics, and the message built from an editor selection. Pure functions, so the node tests
 * check them against real server answers.
 */
import type {
  AnalyticsSummary,
  ChatContext,
  CompactContextResult,
  SelectToolsResult,
} from "./protocol";

export function compactionReport(r: CompactContextResult): string {
  return (
    `Compacted with ${r.strategy}: ${r.before.messages} messages / ${r.before.tokens} tokens ` +
    `→ ${r.after.messages} messages / ${r.after.tokens} tokens`
  );
}

export function toolChoiceLines(r: SelectToolsResult): string[] {
  return r.tools.map(
    (t) => `${t.name}  score ${t.score.toFixed(2)}  [${t.costTier}]  ${t.description}`,
  );
}

function countTable(title: string, counts: Record<string, number>): string[] {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) {
    return [`## ${title}`, "", "_none_", ""];
  }
  return [
    `## ${title}`, "", "| name | count |", "|---|---:|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`), "",
  ];
}

/** The analytics summary as a Markdown document. */
export function analyticsReport(s: AnalyticsSummary, sessionId?: string): string {
  return [
    `# Victor analytics${sessionId ? ` for ${sessionId}` : ""}`,
    "",
    `Sessions: ${s.sessions}`,
    "",
    `Tokens: ${s.tokens.input} in, ${s.tokens.output} out, ${s.tokens.total} total`,
    "",
    ...countTable("Events", s.events),
    ...countTable("Tool calls", s.toolCalls),
  ].join("\n");
}

export interface Selection {
  text: string;
  languageId: string;
  /** Path relative to the workspace, as the server's tools expect. */
  path: string;
  startLine: number;
  endLine: number;
}

/** A chat message asking `question` about a selection, with the context the server uses. */
export function selectionMessage(
  question: string,
  sel: Selection,
): { message: string; context: ChatContext } {
  const fence = sel.text.includes("```") ? "````" : "```";
  const lines = sel.startLine === sel.endLine
    ? `line ${sel.startLine}`
    : `lines ${sel.startLine}-${sel.endLine}`;
  const message =
    `${question.trim() || "Explain this code."}\n\n` +
    `From \`${sel.path}\` ${lines}:\n${fence}${sel.languageId}\n${sel.text}\n${fence}`;
  return { message, context: { language: sel.languageId, file: sel.path } };
}
