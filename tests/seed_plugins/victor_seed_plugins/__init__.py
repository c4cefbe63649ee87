"""The coordinator recipes' classes, bodies as written; only import lines point at victor_server.

Where a recipe's body is itself wrong (a name it uses but never imports), the module adds the
missing import and says so; no class body is changed.
"""
