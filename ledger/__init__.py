"""Importing a county's existing ledger (台账): parse and check a file, then write it through the services."""
