"""Real-filesystem suites. A package, so that its conftest is imported as `fs.conftest` and never
shadows the plain `conftest` module another suite imports helpers from when pytest runs them together."""
