"""The retrieval benchmark's data: a catalogue of tools across domains, paraphrased queries with
the tool each should find, and generated distractor tools to pad the catalogue to 1,000.

Queries are written so that they do not reuse the words of their tool's name or description
(``overlapping_words`` checks that, ignoring stop words), so keyword matching alone cannot win
on them: that is the gap semantic selection has to close.
"""

from __future__ import annotations

import random
import re

from victor_server.tools.base import ToolSpec

# (name, domain, cost tier, description, queries)
_CATALOGUE: list[tuple[str, str, str, str, list[str]]] = [
    # filesystem
    ("read_file", "filesystem", "free", "Read the contents of a text file from the workspace and "
     "return them with line numbers.", ["show me what's inside setup.cfg",
                                       "open config.yml so I can look at it"]),
    ("write_file", "filesystem", "free", "Create or overwrite a file with the given text.",
     ["save this snippet to disk as notes.txt"]),
    ("edit_file", "filesystem", "free", "Replace an exact string in an existing file with new "
     "text, for small targeted changes.", ["swap port 8080 for 9090 inside server.py"]),
    ("list_directory", "filesystem", "free", "List the entries of a directory, marking which are "
     "folders.", ["what sits under src/ right now?"]),
    ("glob_files", "filesystem", "free", "Find files whose paths match a glob pattern such as "
     "**/*.py.", ["locate every yaml under the config tree by wildcard"]),
    ("delete_file", "filesystem", "free", "Delete a file or an empty directory from the "
     "workspace.", ["remove the stale tmp.log", "get rid of old_backup.txt for good"]),
    ("move_file", "filesystem", "free", "Move or rename a file or directory.",
     ["call utils.py text_tools.py instead"]),
    ("copy_file", "filesystem", "free", "Copy a file to a new location, keeping the original.",
     ["duplicate template.html so I have a second page"]),
    ("file_info", "filesystem", "free", "Show metadata of a file: size, modification time and "
     "permissions.", ["how big is data.csv and when was it last touched?"]),
    ("make_directory", "filesystem", "free", "Create a directory, including missing parent "
     "directories.", ["set up nested folders a/b/c"]),
    # search
    ("grep_search", "search", "free", "Search file contents for a regular expression and return "
     "matching lines with their paths.", ["which places mention TODO across the repo?"]),
    ("semantic_code_search", "search", "low", "Search the codebase by meaning using natural "
     "language and return the most relevant code snippets.",
     ["where do we handle user login in this project?"]),
    ("find_symbol_definition", "search", "free", "Go to the definition of a function, class or "
     "variable.", ["where is parse_config declared?"]),
    ("find_references", "search", "free", "List all places where a symbol is used.",
     ["who calls parse_config?"]),
    # web
    ("web_search", "web", "medium", "Search the internet with a search engine and return result "
     "titles, links and snippets.", ["look up online what the newest Python release is"]),
    ("fetch_url", "web", "low", "Download a web page by URL and return its text content.",
     ["grab https://example.com and give me the readable body"]),
    ("browse_page", "web", "medium", "Open a page in a headless browser, run its JavaScript and "
     "take a screenshot.", ["render the dashboard site including scripts and capture a picture"]),
    ("web_scrape", "web", "medium", "Extract structured data from a web page using CSS "
     "selectors.", ["pull all product prices out of that shop listing by their HTML classes"]),
    ("check_url_status", "web", "low", "Check whether a URL is reachable and report the HTTP "
     "status code.", ["is our landing site up or throwing errors?"]),
    ("download_file", "web", "low", "Download a remote file over HTTP to a path in the "
     "workspace.", ["save the zip at this link locally"]),
    # shell
    ("run_command", "shell", "low", "Run a shell command in the workspace and return its output "
     "and exit code.", ["execute `ls -la` in bash"]),
    ("run_background_process", "shell", "low", "Start a long-running process in the background, "
     "such as a dev server, and return its id.", ["kick off the webpack watcher and leave it going "
                                                  "while we code"]),
    ("kill_process", "shell", "free", "Stop a running process by its id.",
     ["terminate the dev server you spawned earlier"]),
    ("list_processes", "shell", "free", "List running processes with their CPU and memory usage.",
     ["what programs are eating the machine's resources?"]),
    ("get_env_var", "shell", "free", "Read the value of an environment variable.",
     ["what is PATH set to?"]),
    ("which_executable", "shell", "free", "Locate an executable on PATH and report its version.",
     ["is node installed, and at which release?"]),
    # git
    ("git_status", "git", "free", "Show the working tree status: staged, unstaged and untracked "
     "files.", ["what have I modified but not committed yet?"]),
    ("git_diff", "git", "free", "Show line-by-line changes between commits, the index and the "
     "working tree.", ["what did I alter in auth.py compared to HEAD?"]),
    ("git_commit", "git", "free", "Record staged changes in the repository with a message.",
     ["save my work to version control noting 'fix typo'"]),
    ("git_log", "git", "free", "Show the commit history with authors, dates and messages.",
     ["who worked on this recently and when?"]),
    ("git_branch", "git", "free", "Create, list or switch branches.",
     ["start a new line of development called feature-x"]),
    ("git_blame", "git", "free", "Show which commit and author last modified each line of a "
     "file.", ["who is responsible for the code at parser.py:42?"]),
    ("git_push", "git", "low", "Push local commits to a remote repository.",
     ["publish my work to origin on GitHub"]),
    ("git_pull", "git", "low", "Fetch from a remote and integrate changes into the current "
     "branch.", ["bring my checkout up to date with upstream"]),
    ("git_stash", "git", "free", "Temporarily shelve uncommitted changes and restore them later.",
     ["put my half-done edits aside for a moment"]),
    ("git_revert", "git", "free", "Undo a commit by creating a new commit that reverses it.",
     ["back out yesterday's bad change"]),
    ("git_merge", "git", "free", "Merge another branch into the current branch, reporting "
     "conflicts.", ["combine feature-x into main"]),
    ("create_pull_request", "git", "low", "Open a pull request on GitHub from a branch, with a "
     "title and description.", ["propose my feature for review on the hosting site"]),
    ("list_issues", "git", "low", "List open issues in the GitHub repository, filtered by label "
     "or assignee.", ["which bug tickets on the tracker are mine?"]),
    ("create_issue", "git", "low", "File a new issue in the GitHub repository with a title and "
     "body.", ["report a bug on our tracker about the crash at startup"]),
    ("review_pull_request", "git", "low", "Add review comments to a pull request and approve or "
     "request changes.", ["leave feedback on PR 12 and sign off on it"]),
    # coding
    ("run_tests", "coding", "low", "Run the project's test suite or selected tests and report "
     "failures.", ["check whether the specs are green after my edit"]),
    ("lint_code", "coding", "free", "Check source code for style problems and likely bugs with a "
     "linter such as ruff or eslint.", ["flag sloppy formatting and unused imports in my module"]),
    ("format_code", "coding", "free", "Reformat source files with the project's formatter "
     "(black, prettier).", ["make the indentation and spacing consistent automatically"]),
    ("type_check", "coding", "free", "Run a static type checker such as mypy or tsc and list type "
     "errors.", ["are the annotations on my functions sound?"]),
    ("explain_code", "coding", "low", "Explain what a piece of code does in plain language.",
     ["walk me through what this snippet is doing"]),
    ("generate_docstring", "coding", "low", "Write documentation comments for functions and "
     "classes.", ["add a summary header to each method describing its arguments"]),
    ("refactor_rename", "coding", "free", "Rename a symbol across the whole codebase safely.",
     ["change every mention of getUser to fetchUser project-wide"]),
    ("extract_function", "coding", "free", "Extract a block of code into a new function.",
     ["pull these ten lines out into their own helper"]),
    ("install_package", "coding", "low", "Install a dependency with the project's package manager "
     "(pip, npm, cargo).", ["add the requests library to my environment"]),
    ("list_dependencies", "coding", "free", "List the project's dependencies and their versions.",
     ["which libraries does this app rely on?"]),
    ("check_outdated", "coding", "low", "Report dependencies that have newer versions available.",
     ["are any of our libraries behind the latest releases?"]),
    ("audit_vulnerabilities", "security", "low", "Scan dependencies for known security "
     "vulnerabilities (CVEs).", ["do any third-party libraries have published exploits?"]),
    ("build_project", "coding", "low", "Compile or build the project and report build errors.",
     ["produce the release artifacts and tell me if anything breaks"]),
    ("run_benchmark", "coding", "low", "Measure the performance of code with a benchmark and "
     "report timings.", ["how fast is my sort routine?"]),
    ("profile_code", "coding", "low", "Profile a program to find where its CPU time is spent.",
     ["which functions are the hotspots slowing this script?"]),
    ("debug_breakpoint", "coding", "free", "Start a debugger session, set breakpoints and inspect "
     "variables.", ["pause execution at line 30 and let me poke at the locals"]),
    ("code_coverage", "coding", "low", "Measure which lines are executed by the tests and report "
     "coverage percentages.", ["how much of the module do our specs exercise?"]),
    ("generate_unit_tests", "coding", "low", "Write unit tests for a function or module.",
     ["create pytest cases for the parser"]),
    ("get_diagnostics", "coding", "free", "Get compiler and language-server diagnostics (errors, "
     "warnings) for a file.", ["what problems does the IDE flag in main.ts?"]),
    # data
    ("read_csv", "data", "free", "Load a CSV file into a table and show its columns and first "
     "rows.", ["open the comma-separated export and preview the header and some records"]),
    ("query_dataframe", "data", "free", "Filter, group and aggregate tabular data with pandas "
     "expressions.", ["total revenue per region from that dataset"]),
    ("plot_chart", "data", "free", "Draw a line, bar or scatter chart from data and save it as an "
     "image.", ["visualise monthly signups as a graph"]),
    ("compute_statistics", "data", "free", "Compute summary statistics: mean, median, standard "
     "deviation, percentiles.", ["what's the average and spread of response times?"]),
    ("convert_format", "data", "free", "Convert data between JSON, YAML, CSV and XML.",
     ["transform the config into a different markup, e.g. toml to ini"]),
    ("validate_json_schema", "data", "free", "Validate a JSON document against a JSON Schema and "
     "list violations.", ["does this payload conform to the API contract definition?"]),
    ("excel_read", "data", "free", "Read sheets and cells from an Excel workbook (.xlsx).",
     ["pull the numbers out of the quarterly spreadsheet"]),
    ("train_model", "data", "high", "Train a machine learning model on a dataset and report "
     "accuracy.", ["fit a classifier to this labelled data"]),
    # database
    ("sql_query", "database", "low", "Run a read-only SQL query against the configured database "
     "and return rows.", ["how many customers signed up last week? ask postgres"]),
    ("describe_table", "database", "free", "Show the schema of a database table: columns, types "
     "and indexes.", ["what fields does the orders relation have?"]),
    ("database_migration", "database", "medium", "Create and apply a database schema migration.",
     ["add a new column to users and roll it out"]),
    # devops
    ("docker_build", "devops", "low", "Build a Docker image from a Dockerfile.",
     ["containerize the app"]),
    ("docker_run", "devops", "low", "Run a container from an image with ports and volumes.",
     ["spin up redis sandboxed and reachable on 6379"]),
    ("docker_logs", "devops", "free", "Show the logs of a running container.",
     ["what is the redis box printing?"]),
    ("kubectl_get_pods", "devops", "low", "List Kubernetes pods and their status in a namespace.",
     ["are all replicas in the staging cluster healthy?"]),
    ("deploy_app", "devops", "high", "Deploy the application to the staging or production "
     "environment.", ["ship the latest version live"]),
    ("rollback_deployment", "devops", "high", "Roll back a deployment to the previous release.",
     ["the latest version is broken, return to what ran earlier"]),
    ("terraform_plan", "devops", "medium", "Preview infrastructure changes with terraform plan.",
     ["what would applying our IaC alter in the cloud?"]),
    ("cloud_storage_upload", "devops", "medium", "Upload a file to an S3 bucket or other object "
     "storage.", ["put the backup archive in our AWS blob store"]),
    # monitoring
    ("view_metrics", "monitoring", "low", "Query time-series metrics such as CPU, latency or "
     "error rate from the monitoring system.", ["how has the p99 of our API trended today?"]),
    ("search_logs", "monitoring", "low", "Search application logs for messages matching a query "
     "within a time range.", ["find exceptions the service emitted in the last hour"]),
    ("create_alert", "monitoring", "low", "Create a monitoring alert that fires when a metric "
     "crosses a threshold.", ["page me if memory goes above 90%"]),
    ("check_ssl_certificate", "web", "low", "Inspect a domain's TLS certificate and its expiry "
     "date.", ["when does the HTTPS credential for our site lapse?"]),
    ("dns_lookup", "web", "low", "Resolve DNS records (A, MX, CNAME) for a hostname.",
     ["which IP does api.example.com point to?"]),
    # communication
    ("send_email", "communication", "low", "Send an email message to one or more recipients.",
     ["mail the report to alice@example.com"]),
    ("read_inbox", "communication", "low", "List recent emails in the inbox, with sender and "
     "subject.", ["did anyone write to me today?"]),
    ("post_slack_message", "communication", "low", "Post a message to a Slack channel.",
     ["tell the #dev room the build is fixed"]),
    ("translate_text", "communication", "low", "Translate text between languages.",
     ["say this sentence in Spanish"]),
    ("summarize_document", "docs", "medium", "Summarize a long document into key points.",
     ["give me the gist of this 40-page PDF"]),
    ("spell_check", "docs", "free", "Check spelling and grammar in prose.",
     ["proofread my blog post for typos"]),
    ("create_wiki_page", "docs", "low", "Create a new page in the team wiki (Confluence or "
     "Notion).", ["start a knowledge-base article about onboarding"]),
    ("search_wiki", "docs", "low", "Search the team wiki for pages matching a query.",
     ["is there an internal write-up on our release process?"]),
    # calendar
    ("schedule_meeting", "calendar", "low", "Schedule a meeting on the calendar with attendees, "
     "time and duration.", ["book 30 minutes with Bob tomorrow at 10"]),
    ("list_calendar_events", "calendar", "low", "List upcoming events on the calendar.",
     ["what's on my agenda this week?"]),
    ("set_reminder", "calendar", "free", "Set a reminder that notifies the user at a given time.",
     ["ping me at 5pm to call the dentist"]),
    # media
    ("resize_image", "media", "free", "Resize or crop an image to given dimensions.",
     ["make the logo 200 by 200 pixels"]),
    ("ocr_image", "media", "low", "Extract text from an image or scanned PDF with OCR.",
     ["read the words in this screenshot"]),
    ("transcribe_audio", "media", "medium", "Transcribe speech in an audio recording to text.",
     ["write out what people said in the voice memo"]),
    ("generate_image", "media", "high", "Generate an image from a text prompt.",
     ["draw a cartoon fox for the README"]),
    ("compress_archive", "filesystem", "free", "Create a zip or tar.gz archive from files.",
     ["pack the dist folder into a single bundle for sharing"]),
    ("extract_archive", "filesystem", "free", "Unpack a zip or tar archive.",
     ["open up release.tgz into a folder"]),
    # general
    ("calculator", "math", "free", "Evaluate an arithmetic expression precisely.",
     ["what's 17% of 2,340?"]),
    ("convert_units", "math", "free", "Convert between units of measurement such as miles and "
     "kilometres.", ["how many pounds is 3 kg?"]),
    ("current_time", "general", "free", "Get the current date and time in a time zone.",
     ["what's the clock reading in Tokyo right now?"]),
    ("generate_uuid", "general", "free", "Generate a random UUID or secure random token.",
     ["give me a fresh unique identifier"]),
    ("file_checksum", "security", "free", "Compute the SHA-256 checksum of a file.",
     ["fingerprint the installer so I can verify its integrity"]),
    ("base64_codec", "general", "free", "Encode or decode Base64 text.",
     ["turn this binary blob into ASCII-safe characters"]),
    ("regex_tester", "coding", "free", "Test a regular expression against sample strings and "
     "show matches.", ["does my pattern ^a.*z$ catch these inputs?"]),
    ("weather_forecast", "web", "low", "Get the weather forecast for a location.",
     ["will it rain in Paris tomorrow?"]),
    ("currency_exchange", "math", "low", "Convert an amount between currencies at the current "
     "exchange rate.", ["how much is 100 dollars in euros?"]),
    ("store_secret", "security", "free", "Save a secret such as an API key in the encrypted "
     "vault.", ["stash this access token somewhere safe"]),
    ("scan_secrets", "security", "free", "Scan the repository for committed passwords, keys and "
     "tokens.", ["did anyone accidentally check in credentials?"]),
    ("ask_user", "general", "free", "Ask the user a clarifying question and wait for the answer.",
     ["I'm unsure which option they want, check with them first"]),
    ("remember_fact", "general", "free", "Store a fact in long-term memory for later sessions.",
     ["keep in mind that I prefer tabs over spaces"]),
    ("update_todo_list", "general", "free", "Track the steps of the current task as a checklist.",
     ["jot down the plan as items I can tick off"]),
]

_SERVICES = {
    "zoho": "Zoho CRM", "freshdesk": "Freshdesk helpdesk", "pipedrive": "Pipedrive sales",
    "airtable": "Airtable base", "asana": "Asana project board", "trello": "Trello board",
    "mailchimp": "Mailchimp audience", "shopify": "Shopify store", "stripe": "Stripe billing",
    "twilio": "Twilio messaging", "quickbooks": "QuickBooks ledger", "xero": "Xero accounting",
    "greenhouse": "Greenhouse recruiting", "workday": "Workday HR", "hubspot": "HubSpot CRM",
    "zendesk": "Zendesk support", "intercom": "Intercom inbox", "marketo": "Marketo campaigns",
    "netsuite": "NetSuite ERP", "bamboohr": "BambooHR directory",
}
_RESOURCES = ["invoice", "contact", "deal", "ticket", "campaign", "order", "product", "coupon",
              "subscription", "candidate", "employee", "card", "customer", "refund", "lead",
              "segment", "vendor", "payout", "timesheet", "quote"]
_ACTIONS = {"create": "Create a new {r} in {s}.", "update": "Update fields of a {r} in {s}.",
            "delete": "Delete a {r} from {s}.", "list": "List {r} records in {s}.",
            "get": "Fetch one {r} by id from {s}.", "archive": "Archive an old {r} in {s}.",
            "export": "Export {r} records from {s} as a report.",
            "assign": "Assign a {r} to an owner in {s}."}

_STOP = set("a an the to of in on and or for with from by at is are be it its as this that "
            "my me i we our you your what which who how do does did can any all into out up "
            "so there their them they when where one new".split())
_WORD = re.compile(r"[a-z0-9]+")


def catalogue(hints: bool = True) -> list[ToolSpec]:
    """The hand-written tools, with their selection metadata (``selection_metadata``) unless
    ``hints`` is False."""
    from selection_metadata import HINTS

    return [ToolSpec(name=n, description=d, cost_tier=c, domain=dom,
                     keywords=tuple(HINTS[n]["keywords"]) if hints else (),
                     examples=tuple(HINTS[n]["examples"]) if hints else ())
            for n, dom, c, d, _ in _CATALOGUE]


def queries() -> list[tuple[str, str]]:
    """(query, expected tool name) pairs."""
    return [(q, n) for n, _, _, _, qs in _CATALOGUE for q in qs]


# Selection metadata for the distractors, as rich as the catalogue's (6 examples, ~8 keywords
# each), so that hints help the hand-written tools no more than the ones padding the catalogue.
_ACTION_WORDS = {
    "create": ["create", "add", "new", "make", "set up", "register"],
    "update": ["update", "edit", "change", "modify", "set field", "correct"],
    "delete": ["delete", "remove", "erase", "drop", "get rid of", "discard"],
    "list": ["list", "show all", "browse", "enumerate", "see every", "records"],
    "get": ["get", "fetch", "look up", "retrieve", "show one", "details"],
    "archive": ["archive", "retire", "shelve", "hide old", "put away", "close out"],
    "export": ["export", "report", "download", "spreadsheet", "csv", "dump"],
    "assign": ["assign", "owner", "hand over", "delegate", "give to", "reassign"],
}
_ACTION_EXAMPLES = {
    "create": ["add a {r} in {b} for the Acme account", "make a fresh {r} record on {b}",
               "set up a {r} in {b} named Q3 launch", "register another {r} with {b}",
               "can you open a new {r} over in {b}?", "new {r} in {b} please"],
    "update": ["change the {r} in {b} to say net 30", "fix the typo on that {b} {r}",
               "set the status of {r} 4417 in {b} to pending", "modify the {b} {r} owner email",
               "edit {r} 881 on {b}", "correct the amount on the {r} in {b}"],
    "delete": ["remove {r} 5512 from {b}", "erase the duplicate {r} in {b}",
               "drop that test {r} out of {b}", "get rid of the {b} {r} we made by mistake",
               "discard the old {r} on {b}", "delete {r} 77 in {b}"],
    "list": ["show all {r}s in {b}", "what {r}s do we have on {b}?",
             "browse the {b} {r} records", "enumerate every {r} in {b} this month",
             "give me the list of {r}s from {b}", "see every open {r} on {b}"],
    "get": ["look up {r} 3021 in {b}", "pull the details of that {b} {r}",
            "retrieve {r} 19 from {b}", "what does {r} 640 say in {b}?",
            "show me one {r} from {b} by its id", "fetch the {b} {r} for Globex"],
    "archive": ["archive last year's {r}s in {b}", "shelve the stale {b} {r}",
                "put away {r} 208 in {b}", "retire the old {r} on {b}",
                "hide the closed {r}s in {b}", "close out the {b} {r} from March"],
    "export": ["export the {b} {r}s to csv", "download a report of {r}s from {b}",
               "dump every {r} in {b} to a spreadsheet", "make a {b} {r} report for finance",
               "get me a csv of the {r}s on {b}", "export this quarter's {r}s from {b}"],
    "assign": ["assign {r} 90 in {b} to Priya", "hand the {b} {r} over to the night shift",
               "make Tom the owner of that {r} in {b}", "delegate the {r} to sales in {b}",
               "reassign the {b} {r} from Ana to Li", "give {r} 12 on {b} to the support team"],
}


def distractors(count: int, seed: int = 7, hints: bool = True) -> list[ToolSpec]:
    """SaaS-style tools (``hubspot_archive_deal``) to pad the catalogue; none answers a query.
    With ``hints`` they carry keywords and examples like the catalogue's tools."""
    combos = [(s, a, r) for s in _SERVICES for a in _ACTIONS for r in _RESOURCES]
    random.Random(seed).shuffle(combos)
    tools = []
    for s, a, r in combos[:count]:
        brand = _SERVICES[s].split()[0]
        keywords = (s, r, *_ACTION_WORDS[a]) if hints else ()
        examples = tuple(e.format(r=r, b=brand) for e in _ACTION_EXAMPLES[a]) if hints else ()
        tools.append(ToolSpec(name=f"{s}_{a}_{r}",
                              description=_ACTIONS[a].format(r=r, s=_SERVICES[s]),
                              cost_tier="low", domain="business", source="bench",
                              keywords=keywords, examples=examples))
    return tools


def _stems(text: str) -> set[str]:
    words = _WORD.findall(text.lower().replace("_", " "))
    return {w[:5] for w in words if w not in _STOP}


def overlapping_words() -> dict[str, set[str]]:
    """Queries that share a (5-letter-prefix) content word with their tool's name/description."""
    found: dict[str, set[str]] = {}
    for name, _, _, description, qs in _CATALOGUE:
        tool_words = _stems(f"{name} {description}")
        for q in qs:
            shared = _stems(q) & tool_words
            if shared:
                found[q] = shared
    return found
