"""``KeywordDomainClassifier``: a tool selection strategy's ``domain_classifier`` built from
config (a mapping of domain name -> words). A leaf module: the plugin registry builds it from an
option without importing the extension protocols."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class KeywordDomainClassifier:
    """victor-ai's ``domain_classifier`` (``await classify(query) -> domain``), built from config:
    a mapping of domain name -> words, as a tool selection strategy's ``domain_classifier``
    option. The domain whose words occur most often in the query wins (the first listed on a
    tie); a query with none of them has no domain (None)."""

    def __init__(self, domains: Mapping[str, Any]) -> None:
        self.domains: dict[str, list[str]] = {}
        for domain, words in domains.items():
            listed = [words] if isinstance(words, str) else list(words or [])
            if not all(isinstance(w, str) and w.strip() for w in listed):
                raise ValueError(f"domain_classifier.{domain}: expected a list of words")
            self.domains[str(domain)] = [w.strip().lower() for w in listed]

    async def classify(self, query: str) -> str | None:
        text = query.lower()
        words = set(re.findall(r"[\w-]+", text))
        best, best_hits = None, 0
        for domain, keywords in self.domains.items():
            hits = sum(1 for k in keywords if (k in text if " " in k else k in words))
            if hits > best_hits:
                best, best_hits = domain, hits
        return best
