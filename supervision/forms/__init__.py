"""The pages' forms, one module per role's area: they validate shape; services decide."""
