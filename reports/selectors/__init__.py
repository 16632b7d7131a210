"""Read-side queries of the reports: each page family has its module."""
