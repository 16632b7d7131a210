"""Django's SQLite backend, with the cursor of BEGIN closed on every path.

Django opens a transaction with `self.cursor().execute("BEGIN IMMEDIATE")` and leaves the
cursor to be freed. When BEGIN fails ("database is locked": a token touch that does not
wait, a write that waited out the busy timeout), the exception's traceback keeps the cursor
in a reference cycle, so the cyclic garbage collector frees it later, in whichever thread
it happens to run. Freeing a SQLite cursor resets its statement, which takes the mutex of
the cursor's connection, and a connection holds its mutex for as long as it waits in
SQLite's busy handler. So when the collector ran in a thread holding the write lock (a
ledger batch), it waited for the mutex of a connection that was itself waiting for that
write lock: neither moved until the busy timeout (20 s) failed the waiting write with a
500, and that failure left one more such cursor behind. A closed cursor holds no
statement, and freeing it takes no lock.
"""

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        """BEGIN (in the configured transaction mode), its cursor closed even when it fails."""
        mode = f" {self.transaction_mode}" if self.transaction_mode else ""
        with self.cursor() as cursor:
            cursor.execute(f"BEGIN{mode}")
