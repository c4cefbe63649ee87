"""BM25 over a tool's name, description, parameters and domain, with synonyms, in plain Python.

Why not ``bm25s``: our corpora are tool catalogues (tens to a few thousand short documents), and a
query is a handful of words. An inverted index of precomputed per-posting BM25 weights answers a
query by summing a few short posting lists: about 0.1 ms for 1,000 tools, with no numpy import,
so keyword selection (the fallback when no embedding model loads) needs no third-party package.

Tool names are split on ``_``, ``-``, ``.`` and camelCase so ``readFile`` and ``read_file`` match
"read". A light suffix stemmer folds plurals and -ing/-ed forms together. Every term also adds
the token of each synonym group it belongs to (``synonyms.GROUPS``), in documents and queries
alike, so "erase" matches "delete": on the benchmark that took BM25 from recall@5 0.01 to about
0.5 on queries that share no word with their tool (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from victor_server.selection.synonyms import GROUPS

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the to of in on and or for with from by at is are be it its as this that these those "
    "my me i we our you your what which who how do does did can could would should will any all "
    "into out up so there their them they when where please some".split())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms of ``text``."""
    text = _CAMEL.sub(" ", text).lower()
    return [_stem(w) for w in _WORD.findall(text) if w not in _STOP]


def _synonym_map() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(GROUPS):
        for word in line.split():
            groups.setdefault(_stem(word), []).append(f"~{number}")
    return {term: tuple(dict.fromkeys(tokens)) for term, tokens in groups.items()}


_SYNONYMS = _synonym_map()


def index_terms(text: str) -> list[str]:
    """``tokenize(text)`` plus the synonym-group token of every term that has one."""
    terms = tokenize(text)
    return terms + [group for term in terms for group in _SYNONYMS.get(term, ())]


class BM25Index:
    """An immutable BM25 index over documents given as strings."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75,
                 synonyms: bool = True) -> None:
        self.size = len(documents)
        # Without synonyms: plain BM25, the benchmark's baseline.
        self._terms = index_terms if synonyms else tokenize
        terms = [Counter(self._terms(doc)) for doc in documents]
        lengths = [sum(t.values()) for t in terms]
        average = (sum(lengths) / self.size) if self.size else 0.0
        frequency: Counter[str] = Counter()
        for counts in terms:
            frequency.update(counts.keys())
        self._postings: dict[str, list[tuple[int, float]]] = {}
        # A query term no tool uses still counts in ``best_possible``, at the weight it would
        # have had in one document: unmatched words make every match count for less.
        self._unseen = math.log(1 + (self.size + 0.5) / 0.5)
        self._best: dict[str, float] | None = None  # each term's highest weight, on first use
        for index, counts in enumerate(terms):
            norm = k1 * (1 - b + b * lengths[index] / (average or 1.0))
            for term, tf in counts.items():
                df = frequency[term]
                idf = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
                weight = idf * tf * (k1 + 1) / (tf + norm)
                self._postings.setdefault(term, []).append((index, weight))

    def scores(self, query: str) -> dict[int, float]:
        """BM25 score per matching document index (documents that match no term are absent)."""
        result: dict[int, float] = {}
        for term in set(self._terms(query)):
            for index, weight in self._postings.get(term, ()):
                result[index] = result.get(index, 0.0) + weight
        return result

    def best_possible(self, query: str) -> float:
        """An upper bound of ``scores(query)``: each term at its highest weight. Dividing by it
        says how much of the query a tool explains, so one shared verb ("show", "open") stays a
        small signal instead of being scaled up to 1.0."""
        if self._best is None:
            self._best = {t: max(w for _, w in postings) for t, postings in self._postings.items()}
        return sum(self._best.get(t, self._unseen) for t in set(self._terms(query)))


def tokenize_name(name: str) -> list[str]:
    """A tool name's words: ``readFile``, ``read_file`` and ``read-file`` are "read file"."""
    return _CAMEL.sub(" ", re.sub(r"[_.-]+", " ", name)).lower().split()


def tool_document(name: str, description: str, input_schema: dict[str, Any] | None = None,
                  domain: str = "") -> str:
    """The text indexed for a tool: its name with separators turned into spaces, its
    description, its parameters' names and descriptions (from the JSON schema) and its domain."""
    parts = [re.sub(r"[_.-]+", " ", name), description]
    properties = (input_schema or {}).get("properties")
    if isinstance(properties, dict):
        for key, prop in properties.items():
            parts.append(re.sub(r"[_.-]+", " ", str(key)))
            if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                parts.append(prop["description"])
    if domain:
        parts.append(domain)
    return " ".join(parts)
