"""More of the coordinator recipes' and examples' classes, bodies as written; only import lines
point at victor_server (tests/seed_plugins holds the first ones).

A separate package because each of these needs its own options (a database, a port, variants)
and an installed provider or contributor is on unless disabled: a test installs the package it
is about. Where a body is itself wrong, the module says what it changed and why.
"""
