"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.compactionReport = compactionReport;
exports.toolChoiceLines = toolChoiceLines;
exports.analyticsReport = analyticsReport;
exports.selectionMessage = selectionMessage;
function compactionReport(r) {
    return (`Compacted with ${r.strategy}: ${r.before.messages} messages / ${r.before.tokens} tokens ` +
        `→ ${r.after.messages} messages / ${r.after.tokens} tokens`);
}
function toolChoiceLines(r) {
    return r.tools.map((t) => `${t.name}  score ${t.score.toFixed(2)}  [${t.costTier}]  ${t.description}`);
}
function countTable(title, counts) {
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
function analyticsReport(s, sessionId) {
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
/** A chat message asking `question` about a selection, with the context the server uses. */
function selectionMessage(question, sel) {
    const fence = sel.text.includes("```") ? "````" : "```";
    const lines = sel.startLine === sel.endLine
        ? `line ${sel.startLine}`
        : `lines ${sel.startLine}-${sel.endLine}`;
    const message = `${question.trim() || "Explain this code."}\n\n` +
        `From \`${sel.path}\` ${lines}:\n${fence}${sel.languageId}\n${sel.text}\n${fence}`;
    return { message, context: { language: sel.languageId, file: sel.path } };
}
//# sourceMappingURL=reports.js.map