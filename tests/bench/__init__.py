"""Province scale benchmark: the app against hand-written SQL doing the same work (`make bench`).

Not a test package: pytest collects nothing here (no test_*.py). Run as `python -m tests.bench`
under a PostgreSQL (tests/with_postgres.sh sets DATABASE_URL); see __main__.py.
"""
