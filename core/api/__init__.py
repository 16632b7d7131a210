"""What every app's REST endpoints share: the API base, schema pieces and pagination."""
