"""Filter forms of the reports pages, one module per page family."""
