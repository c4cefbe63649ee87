"""Which domain a query belongs to, among the domains of the tools on offer.

Each domain is described by its tools (names and descriptions) plus a few hint words for the
usual domains. With embeddings, a domain is the normalised mean of its tools' vectors and of its
hint text's vector, and the query goes to the nearest one. Without them, BM25 over one document
per domain (hints + every tool's text) decides. Built per tool set and cached by the coordinator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from victor_server.selection.keyword import BM25Index, tool_document
from victor_server.tools.base import ToolSpec

if TYPE_CHECKING:
    from victor_server.selection.embedding import Matrix

DOMAIN_HINTS: dict[str, str] = {
    "coding": "code program function class bug compile test refactor lint source",
    "filesystem": "file folder directory path disk read write copy move delete",
    "search": "find locate grep search where symbol definition usage codebase",
    "shell": "terminal command bash process execute environment variable",
    "git": "git commit branch merge diff history repository pull request issue",
    "web": "internet website url page browser http online download",
    "data": "data table csv spreadsheet chart statistics dataframe json analysis",
    "database": "database sql query table schema rows migration",
    "devops": "deploy docker container kubernetes cloud server infrastructure",
    "monitoring": "metrics logs alerts latency uptime dashboards incidents",
    "communication": "email message chat slack send notify translate",
    "calendar": "calendar meeting schedule event reminder appointment",
    "docs": "document wiki page notes summary writing",
    "media": "image picture audio video photo screenshot",
    "security": "security secret password vulnerability credential key",
}


class DomainClassifier:
    def __init__(self, tools: Sequence[ToolSpec], vectors: Matrix | None = None,
                 hint_vectors: Matrix | None = None) -> None:
        self.domains = list(dict.fromkeys(t.domain for t in tools))
        documents = [" ".join([DOMAIN_HINTS.get(d, d)]
                              + [tool_document(t.name, t.description)
                                 for t in tools if t.domain == d]) for d in self.domains]
        self._keyword = BM25Index(documents)
        self._centroids: Matrix | None = None
        if vectors is not None:
            import numpy as np

            rows = []
            for i, domain in enumerate(self.domains):
                members = vectors[[j for j, t in enumerate(tools) if t.domain == domain]]
                centre = members.mean(axis=0)
                if hint_vectors is not None:
                    centre = centre + hint_vectors[i]
                rows.append(centre / max(float(np.linalg.norm(centre)), 1e-12))
            self._centroids = np.stack(rows).astype(np.float32)

    @staticmethod
    def hint_texts(tools: Sequence[ToolSpec]) -> list[str]:
        """The texts whose embeddings ``hint_vectors`` must hold, in domain order."""
        return [f"{d}: {DOMAIN_HINTS.get(d, d)}" for d in dict.fromkeys(t.domain for t in tools)]

    def classify(self, query: str, query_vector: Matrix | None = None) -> str | None:
        """The best domain, or None when nothing points anywhere (keyword mode, no match)."""
        if not self.domains:
            return None
        if self._centroids is not None and query_vector is not None:
            return self.domains[int((self._centroids @ query_vector).argmax())]
        scores = self._keyword.scores(query)
        if not scores:
            return None
        return self.domains[max(scores, key=scores.__getitem__)]
