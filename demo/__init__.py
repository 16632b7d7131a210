"""The Feixi demo: a county's units, people, projects and nodes, loaded through the services."""
