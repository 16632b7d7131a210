"""Django's SQLite backend, with its BEGIN cursor closed (see base.DatabaseWrapper)."""
